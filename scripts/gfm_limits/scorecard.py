"""The scorecard: the paper's four claims, one row per claim and (DNA, text) comparison.

Vrcek, Rochkoulets, Sikic (2026) claim that, against text models of the same size and
training, DNA models (1) give outputs nearer the uniform distribution, (2) disagree more
between members of an ensemble, (3) have less consistent static embeddings and (4) hold
more of their Fisher information in the embeddings. findings.tsv (confidence.findings) tests
each claim under every definition of its statistic; a row of the scorecard is the claim under
the paper's own definition (the first row of findings.tsv whose `definition` is the paper's,
v1 or v2, in headline.FINDINGS order), with this run's DNA - text difference, its interval
and findings.tsv's verdict, shortened to "holds", "does not hold" or "not interpretable" (the
text models do not use context, so they are no reference). Nothing is recomputed here: the
verdict, the interval and `interpretable` are findings.tsv's; `paper_definitions_holding`
counts the rows of the claim's other paper definitions that hold too, and the members and
context use of both conditions come from summary.tsv.
"""

from __future__ import annotations

import html

import pandas as pd

from gfm_limits.headline import FINDINGS

CLAIMS = tuple(dict.fromkeys(finding.text for finding in FINDINGS))  # in the paper's order
VERDICTS = ("holds", "does not hold", "not interpretable")
# the HTML page's marks: a shape and a word, never a colour alone
MARKS = {"holds": "\u25cf", "does not hold": "\u25cb", "not interpretable": "\u2014"}
# context use first: a claim's verdict means something only where the text models left the unigram plateau
CONTEXT = ("context_gain_bits", "context_ci_low", "context_ci_high", "uses_context")
COLUMNS = ("dna", "text", *(f"{side}_{c}" for side in ("dna", "text") for c in CONTEXT),
           "claim", "statistic", "definition", "direction", "difference", "ci_low", "ci_high",
           "level", "verdict", "why", "paper_definitions_holding", "dna_members", "text_members")


def _verdict(verdict: str) -> tuple[str, str]:
    """findings.tsv's verdict as one of VERDICTS, and the reason after its colon ("" if none)."""
    head, _, why = verdict.partition(":")
    if head.strip() not in VERDICTS:
        raise ValueError(f"findings.tsv: verdict {verdict!r} is none of {VERDICTS}")
    return head.strip(), why.strip()


def scorecard(findings: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """One row per claim of CLAIMS and (dna, text) pair of findings.tsv that has a paper-defined
    row (COLUMNS). findings, summary: findings.tsv and summary.tsv as read."""
    paper = findings[findings["definition"].str.startswith("paper")]
    by_condition = summary.set_index("condition")
    rows = []
    for claim in CLAIMS:
        for (dna, text), tested in paper[paper["finding"] == claim].groupby(["dna", "text"], sort=False):
            first = tested.iloc[0]
            verdict, why = _verdict(first["verdict"])
            holding = int(tested["holds"].astype(bool).sum())
            rows.append({"claim": claim, "dna": dna, "text": text, "statistic": first["statistic"],
                         "definition": first["definition"], "direction": first["claim"],
                         "difference": first["difference"], "ci_low": first["ci_low"], "ci_high": first["ci_high"],
                         "level": first["level"], "verdict": verdict, "why": why,
                         "paper_definitions_holding": f"{holding} of {len(tested)}",
                         "dna_members": int(by_condition.loc[dna, "members"]),
                         "text_members": int(by_condition.loc[text, "members"]),
                         **_context(by_condition, "dna", dna), **_context(by_condition, "text", text)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _context(by_condition: pd.DataFrame, side: str, condition: str) -> dict:
    """summary.tsv's context use of one condition, as the scorecard's `{side}_*` CONTEXT columns."""
    row = by_condition.loc[condition]
    return {f"{side}_context_gain_bits": float(row["context_gain_bits_mean"]),
            f"{side}_context_ci_low": float(row["context_gain_bits_ci_low"]),
            f"{side}_context_ci_high": float(row["context_gain_bits_ci_high"]),
            f"{side}_uses_context": bool(row["uses_context"])}


def context_html(summary: pd.DataFrame) -> str:
    """The first table of the page: each condition's held-out cross-entropy against its unigram and its
    best baseline (summary.tsv), so no verdict is read before whether the models use context."""
    head = ("<tr><th>Condition</th><th>Members</th><th>Held-out CE</th><th>Unigram CE</th>"
            "<th>Gain over unigram [interval]</th><th>CE &minus; best baseline [interval]</th>"
            "<th>Uses context</th></tr>")
    body = []
    for r in summary.itertuples():
        uses = "\u25c6 yes" if r.uses_context else "\u25c7 no"
        body.append(
            f"<tr><td>{html.escape(r.condition)}</td><td class=\"num\">{int(r.members)}</td>"
            f"<td class=\"num\">{r.cross_entropy_bits_mean:.2f}</td>"
            f"<td class=\"num\">{r.unigram_cross_entropy_bits_mean:.2f}</td>"
            f"<td class=\"num\"><b>{_number(r.context_gain_bits_mean)}</b> [{_number(r.context_gain_bits_ci_low)}, "
            f"{_number(r.context_gain_bits_ci_high)}]</td>"
            f"<td class=\"num\">{_number(r.ce_minus_best_baseline_bits)} "
            f"[{_number(r.ce_minus_best_baseline_bits_ci_low)}, "
            f"{_number(r.ce_minus_best_baseline_bits_ci_high)}]<br><small>{html.escape(str(r.best_baseline))}</small></td>"
            f"<td>{uses}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _number(x: float) -> str:
    return f"{x:+.3g}"


def scorecard_html(card: pd.DataFrame, facts: str = "", summary: pd.DataFrame | None = None) -> str:
    """A standalone page: first each condition's context use (context_html of summary.tsv), then the
    scorecard as a table, verdicts marked by shape and word."""
    head = ("<tr><th>Claim (paper's definition)</th><th>DNA</th><th>Text</th><th>Statistic</th>"
            "<th>DNA &minus; text [interval]</th><th>Verdict</th><th>Paper definitions holding</th></tr>")
    body = []
    for r in card.itertuples():
        verdict = f"{MARKS[r.verdict]} {r.verdict}" + (f"<br><small>{html.escape(r.why)}</small>" if r.why else "")
        body.append(
            f"<tr class=\"{r.verdict.replace(' ', '-')}\"><td>{html.escape(r.claim)}<br><small>{r.direction}"
            f"</small></td><td>{html.escape(r.dna)}</td><td>{html.escape(r.text)}</td><td><code>"
            f"{html.escape(r.statistic)}</code><br><small>{html.escape(r.definition)}</small></td>"
            f"<td class=\"num\">{_number(r.difference)} [{_number(r.ci_low)}, {_number(r.ci_high)}]</td>"
            f"<td>{verdict}</td><td class=\"num\">{r.paper_definitions_holding}</td></tr>")
    level = f"{float(card['level'].iloc[0]):.0%} " if len(card) else ""
    context = "" if summary is None else (
        "<h2>First: do the models use context?</h2><p>Bits per masked token on the held-out rows, mean of "
        "the members; the gain is the unigram's cross-entropy minus the model's, and a condition uses "
        "context when its gain is at least <code>stats.min_context_bits</code> with its interval above 0 "
        "(summary.tsv). On the unigram plateau a model's outputs, disagreement and Fisher describe a unigram "
        "predictor.</p>" + context_html(summary) + "<h2>The paper's claims</h2>")
    empty = "" if len(card) else "<p>No DNA and text conditions of the same model to compare.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gfm-limits scorecard</title>
<style>
body {{ font-family: system-ui, sans-serif; font-size: 15px; margin: 1.5em; color: #222; max-width: 75em; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border-bottom: 1px solid #ccc; padding: .35em .5em;
text-align: left; vertical-align: top; }} th {{ background: #f3f3f3; }} .num {{ text-align: right;
font-variant-numeric: tabular-nums; white-space: nowrap; }} small {{ color: #666; }}
tr.not-interpretable td {{ color: #777; background: repeating-linear-gradient(45deg, #fff, #fff 6px,
#f4f4f4 6px, #f4f4f4 12px); }}
</style></head><body>
<h1>Scorecard: the paper's claims in this run</h1>
{context}<p>Each claim of Vr&#269;ek, Rochkoulets, &#352;iki&#263; (2026) under the paper's definition of its
statistic: this run's DNA &minus; text difference with its {level}Multi-Bootstrap interval.
&#9679; holds: the whole interval lies on the claimed side of 0; &#9675; does not hold; &mdash; not
interpretable: the text models do not use context (they are on the unigram plateau), so they are no
reference for what DNA models lack. {html.escape(facts)}</p>
{empty}<table>{head}{''.join(body)}</table>
</body></html>
"""


def write_scorecard(*, findings: str, summary: str, tsv_out: str, html_out: str, facts: str = "") -> pd.DataFrame:
    """scorecard() of findings.tsv and summary.tsv, written as TSV and as a standalone HTML page."""
    try:
        tested = pd.read_csv(findings, sep="\t")
    except pd.errors.EmptyDataError:  # no (DNA, text) comparison: findings.tsv has no columns
        tested = pd.DataFrame(columns=["finding", "definition", "dna", "text"])
    conditions = pd.read_csv(summary, sep="\t")
    card = scorecard(tested, conditions)
    card.to_csv(tsv_out, sep="\t", index=False)
    with open(html_out, "w") as out:
        out.write(scorecard_html(card, facts, conditions))
    return card
