"""The scorecard reads findings.tsv and summary.tsv: hand-built tables, the rows worked out by hand;
and the report's order."""

import pandas as pd
import pytest

from gfm_limits.headline import FINDINGS
from gfm_limits.scorecard import CLAIMS, COLUMNS, scorecard, scorecard_html, write_scorecard

NOT_INTERPRETABLE = "not interpretable: the text models do not use context"


def _row(finding, statistic, definition, dna, text, difference, low, high, holds, verdict):
    return {"finding": finding, "statistic": statistic, "definition": definition, "claim": "DNA < text",
            "dna": dna, "text": text, "interpretable": not verdict.startswith("not"), "verdict": verdict,
            "difference": difference, "ci_low": low, "ci_high": high, "level": 0.95, "holds": holds}


UNIFORM, DISAGREE = "DNA outputs are nearer uniform", "DNA members disagree more"
FINDINGS_TABLE = pd.DataFrame([
    # two paper definitions of one claim: the first (v1) is the scorecard's, both counted
    _row(UNIFORM, "kl_uniform_bits", "paper v1", "dna_bpe", "text_bpe", -1.5, -2.0, -1.0, True, "holds"),
    _row(UNIFORM, "kl_uniform_bits", "paper v1", "dna_kmer", "text_bpe", 0.2, -0.1, 0.5, False, "does not hold"),
    _row(UNIFORM, "kl_from_uniform_bits", "paper v2", "dna_bpe", "text_bpe", -0.5, -0.9, 0.1, False, "does not hold"),
    _row(UNIFORM, "kl_from_uniform_bits", "paper v2", "dna_kmer", "text_bpe", -0.3, -0.6, -0.1, True, "holds"),
    # a definition beyond the paper's comes first in the table but is not the scorecard's
    _row(DISAGREE, "disagreement", "beyond", "dna_bpe", "text_bpe", 0.9, 0.1, 1.2, True, "holds"),
    _row(DISAGREE, "js_p1", "paper", "dna_bpe", "text_bpe", 0.04, 0.01, 0.07, True, NOT_INTERPRETABLE),
])
SUMMARY = pd.DataFrame({"condition": ["text_bpe", "dna_bpe", "dna_kmer"], "members": [3, 3, 2],
                        "uses_context": [True, True, False],
                        "context_gain_bits_mean": [2.5, 0.75, 0.125], "context_gain_bits_ci_low": [2.0, 0.5, -0.25],
                        "context_gain_bits_ci_high": [3.0, 1.0, 0.5],
                        "cross_entropy_bits_mean": [7.0, 9.25, 11.0],
                        "unigram_cross_entropy_bits_mean": [9.5, 10.0, 11.125],
                        "ce_minus_best_baseline_bits": [1.5, 0.25, -0.5],
                        "ce_minus_best_baseline_bits_ci_low": [1.0, 0.0, -1.0],
                        "ce_minus_best_baseline_bits_ci_high": [2.0, 0.5, 0.0],
                        "best_baseline": ["token markov3", "char markov5", "char xz"]})


def test_one_row_per_claim_and_pair_under_the_papers_first_definition():
    card = scorecard(FINDINGS_TABLE, SUMMARY)
    assert list(card.columns) == list(COLUMNS)
    got = card[["claim", "dna", "statistic", "difference", "ci_low", "ci_high", "verdict"]].values.tolist()
    assert got == [[UNIFORM, "dna_bpe", "kl_uniform_bits", -1.5, -2.0, -1.0, "holds"],
                   [UNIFORM, "dna_kmer", "kl_uniform_bits", 0.2, -0.1, 0.5, "does not hold"],
                   [DISAGREE, "dna_bpe", "js_p1", 0.04, 0.01, 0.07, "not interpretable"]]
    # dna_bpe: v1 holds, v2 does not; dna_kmer: the reverse; js: its only paper row holds (uninterpretable)
    assert list(card["paper_definitions_holding"]) == ["1 of 2", "1 of 2", "1 of 1"]
    assert list(card["why"]) == ["", "", "the text models do not use context"]
    assert list(card["dna_members"]) == [3, 2, 3] and list(card["text_members"]) == [3, 3, 3]
    assert list(card["dna_uses_context"]) == [True, False, True] and card["text_uses_context"].all()
    # context use comes first, copied from summary.tsv's row of each side's condition
    assert list(card.columns[:2]) == ["dna", "text"] and card.columns[2] == "dna_context_gain_bits"
    assert card[["dna_context_gain_bits", "dna_context_ci_low", "dna_context_ci_high"]].values.tolist() == [
        [0.75, 0.5, 1.0], [0.125, -0.25, 0.5], [0.75, 0.5, 1.0]]
    assert (card["text_context_gain_bits"] == 2.5).all() and (card["text_context_ci_high"] == 3.0).all()


def test_claims_are_the_papers_four_in_order():
    assert CLAIMS == ("DNA outputs are nearer uniform", "DNA members disagree more",
                      "DNA static embeddings are less consistent", "DNA models hold more Fisher in the embeddings")
    for claim in CLAIMS:  # every claim has a definition of the paper's own, else its row would vanish
        assert any(f.text == claim and f.definition.startswith("paper") for f in FINDINGS)


def test_an_unknown_verdict_is_refused():
    bad = FINDINGS_TABLE.assign(verdict="maybe")
    with pytest.raises(ValueError, match="verdict 'maybe'"):
        scorecard(bad, SUMMARY)


def test_written_table_and_page_carry_every_verdict_with_a_shape(tmp_path):
    FINDINGS_TABLE.to_csv(tmp_path / "findings.tsv", sep="\t", index=False)
    SUMMARY.to_csv(tmp_path / "summary.tsv", sep="\t", index=False)
    write_scorecard(findings=tmp_path / "findings.tsv", summary=tmp_path / "summary.tsv",
                    tsv_out=tmp_path / "card.tsv", html_out=tmp_path / "card.html", facts="2 members <x>")
    back = pd.read_csv(tmp_path / "card.tsv", sep="\t", keep_default_na=False)
    assert list(back["verdict"]) == ["holds", "does not hold", "not interpretable"]
    page = (tmp_path / "card.html").read_text()
    assert page.count("<tr class=") == 3 and "2 members &lt;x&gt;" in page
    assert "\u25cf holds" in page and "\u25cb does not hold" in page and "\u2014 not interpretable" in page
    assert "-1.5 [-2, -1]" in page
    # the page opens with context use: every condition's gain and baseline, before any verdict
    context, claims = page.split("<h2>The paper's claims</h2>")
    assert "do the models use context?" in context and "\u25cf" not in context
    assert "<b>+2.5</b> [+2, +3]" in context and "<b>+0.125</b> [-0.25, +0.5]" in context
    assert "+1.5 [+1, +2]<br><small>token markov3" in context and "\u25c7 no" in context
    assert context.count("\u25c6 yes") == 2 and "<tr class=" in claims


def test_no_comparison_gives_an_empty_scorecard(tmp_path):
    (tmp_path / "findings.tsv").write_text("\n")  # what summarize writes for an empty findings frame
    SUMMARY.to_csv(tmp_path / "summary.tsv", sep="\t", index=False)
    card = write_scorecard(findings=tmp_path / "findings.tsv", summary=tmp_path / "summary.tsv",
                           tsv_out=tmp_path / "card.tsv", html_out=tmp_path / "card.html")
    assert card.empty and "No DNA and text conditions" in scorecard_html(card)


def test_every_report_item_has_a_numbered_category_and_subcategory_in_reading_order():
    from gfm_limits.layout import FIGURES, REPORT_CATEGORIES, REPORT_ITEMS, report_item

    assert set(FIGURES) <= set(REPORT_ITEMS)
    assert [c.split(".")[0] for c in REPORT_CATEGORIES] == [str(i) for i in range(len(REPORT_CATEGORIES))]
    assert report_item("scorecard")["category"] == "0. Scorecard"
    assert report_item("context")["category"].startswith("1.") and report_item("findings")["category"].startswith("2.")
    # numbered within the category in declaration order, whatever the names' alphabetical order
    assert [report_item(n)["subcategory"] for n in ("context", "dynamics", "baselines")] == [
        "1.1 Do the models use context?", "1.2 Over training", "1.3 Context baselines"]
    assert all(set(report_item(n)["labels"]) == {"item"} for n in REPORT_ITEMS)
