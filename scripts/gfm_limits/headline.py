"""The headline statistics, each declared once, and the paper's findings that compare them.

A `Statistic` is one number per ensemble member or per pair of members, read from the
condition's tidy tables (`Statistic.values`); its point estimate is their mean (`point`), the
same function for summary.tsv's `<name>_mean` (stats.condition_summary) and ci.tsv's `estimate`
(confidence.condition_replicates), beside the population std (ddof=0, as the paper) in summary.tsv.
Its Multi-Bootstrap replicates (`Statistic.replicates`; bootstrap.py, Sellam et al. 2021)
resample one of:
- members+rows: members and the shared held-out rows jointly, as MultiBERTs resamples
  examples; a statistic at the masked positions is resampled by its positions' row (the
  positions of one row share its context and are correlated, so they are drawn together,
  never one by one): from each member's (or pair's) values at every position
  (`member_positions`, `pair_positions`), summed per row (`Evidence.gather`), a replicate is
  the mean over all masked positions of the drawn rows, a ratio of sums whose value on all
  rows is the table value; the per-example Fisher shares are ratios of sums over the drawn
  rows too (`fisher_rows`);
- members: members only, from the values themselves (no examples to resample: statistics over
  the vocabulary, or the paper's mini-batch Fisher);
- nothing (summary only, no interval).
One set of member draws serves every statistic of a replicate, and one set of row draws every
statistic resampled by rows (the Fisher's rows are the predictions' rows). A name that carries the summary's
k or top-p is built from its `template` here and nowhere else (`Statistic.name`), and found back
in a written table by the same template (`Statistic.finds`).

The statistics (name: one value, what is resampled):
- context_gain_bits: per member, the unigram cross-entropy of the masked targets minus the
  model's, bits per masked token (metrics.context_gain_bits): does the model use context at
  all (`uses_context`); members+rows
- cross_entropy_bits: per member, -log2 p(target), mean over masked positions; members+rows
- unigram_cross_entropy_bits: per member, -log2 q(target) under the unigram model q of the
  training tokens (no context); summary only
- kl_uniform_bits, entropy_bits: per member, KL(p || U) (the paper's v1) and H(p) in bits;
  members+rows
- kl_from_uniform_bits: per member, KL(U || p) in bits, p clamped at 1e-10 (the paper's v2 KL,
  metrics.kl_from_uniform_bits); members+rows
- accuracy: per member, share of positions whose argmax is the target; members+rows
- perplexity: per member, 2 ** cross_entropy_bits; summary only
- js_p{top_p}: per pair, the Jensen-Shannon distance (base 2) of the top-p truncated
  distributions, mean over positions; members+rows
- disagreement: per pair, share of positions whose argmaxes differ; members+rows
- spearman: per pair, Spearman of the static embeddings' cosine similarities, mean over tokens;
  members
- procrustes: per pair, the Procrustes disparity of the static embeddings; members
- procrustes_cosine: per pair, the mean cosine between the static embeddings' rows after
  Procrustes alignment (the paper's); members
- jaccard_k{k}: per pair, Jaccard overlap of the k nearest neighbours, mean over tokens; members
- cka_{contextual,pooled,static}_{linear,rbf}: per pair, CKA of the contextual embeddings at
  the masked positions (ours), of the mean-pooled ones per held-out row (the paper's v2) or of
  the static ones; members
- fisher_share_{embeddings,transformer,head}: per member, the part's share of the paper's
  mini-batch Fisher; members
- fisher_pe_share_{embeddings,transformer,head}: per member, the part's share of the
  per-example Fisher; members+rows
- fisher_true_share_{embeddings,transformer,head}: per member, the part's share of the
  per-example true Fisher (labels drawn from the model; fisher.fisher_true_per_example);
  members+rows
- cka_{contextual,static}_linear_debiased: per pair, linear CKA with the unbiased HSIC
  (embeddings.debiased_linear_cka); members
- fisher_pe_word_decoder_part: per member, the decoder's part of the tied word embedding's
  per-example Fisher; members+rows

FINDINGS: each of the paper's findings as a claimed direction of a statistic, DNA against text
(confidence.findings tests them), once per definition of the statistic: the paper's (its v1 or
v2 code where they differ) and ours beyond it (`Finding.definition`, findings.tsv's `definition`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits import metrics

Tables = Mapping[str, pd.DataFrame]

RESAMPLED = ("members+rows", "members")
FISHER_PARTS = ("embeddings", "transformer", "head")
SPLIT_ROWS = ("word_input", "word_decoder")  # per-example Fisher: the tied embedding's two uses
CONTEXT_GAIN = "context_gain_bits"
# outputs.tsv, after seed: one member's means over its masked positions (`member_outputs`)
OUTPUTS = ("entropy_bits", "kl_uniform_bits", "kl_from_uniform_bits", "cross_entropy_bits", "accuracy",
           "perplexity", "unigram_cross_entropy_bits")
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?"  # what {k} and {top_p:g} write


@dataclass(frozen=True)
class Settings:
    """Where the summary reads the curves: the top-k overlap at k, the JS distance at top_p
    (stats.summary_k, stats.summary_top_p)."""

    k: int
    top_p: float


@dataclass(frozen=True)
class Evidence:
    """What one condition's replicates resample; members in seed order, pairs (i, j) i < j by
    their index in seeds; R held-out rows, the same for the predictions and the per-example Fisher.
    positions: member statistic -> (S, R) sums per member over each row's masked positions;
    pairs: pair statistic -> {(i, j): (R,)} sums over each row's masked positions;
    counts: (R,) masked positions per row;
    rows: per-example Fisher part -> (S, R) per member and held-out row (`fisher_rows`)."""

    seeds: tuple[int, ...]
    positions: Mapping[str, np.ndarray]
    pairs: Mapping[str, Mapping[tuple[int, int], np.ndarray]]
    counts: np.ndarray
    rows: Mapping[str, np.ndarray]

    @classmethod
    def gather(cls, positions: Mapping[int, Mapping[str, np.ndarray]],
               pairs: Mapping[tuple[int, int], Mapping[str, np.ndarray]], rows: Mapping[str, np.ndarray], *,
               row_of: np.ndarray, n_rows: int) -> Evidence:
        """From per-seed `member_positions` and per-pair-of-seeds `pair_positions`, (M,) each, and
        row_of (M,): the held-out row of each masked position (`position_rows`), in [0, n_rows)."""
        seeds = tuple(sorted(positions))
        index = {seed: i for i, seed in enumerate(seeds)}
        names = next(iter(pairs.values())).keys() if pairs else ()
        fisher_rows = {part: np.shape(v)[1] for part, v in rows.items()}
        if any(r != n_rows for r in fisher_rows.values()):
            raise ValueError(f"the per-example Fisher has {sorted(set(fisher_rows.values()))} rows, "
                             f"the predictions' masks {n_rows}")
        member = {name: bs.row_sums(np.stack([positions[s][name] for s in seeds]), row_of, n_rows)
                  for name in positions[seeds[0]]}  # (S, R) each
        pair = {}
        for name in names:
            stacked = bs.row_sums(np.stack([v[name] for v in pairs.values()]), row_of, n_rows)  # (P, R)
            pair[name] = {(index[a], index[b]): sums for (a, b), sums in zip(pairs, stacked)}
        counts = bs.row_sums(np.ones((1, len(row_of))), row_of, n_rows)[0]  # (R,)
        return cls(seeds, member, pair, counts, rows)

    def draws(self, resampled: str, n_boot: int, seed: int) -> bs.Draws:
        """The joint draws of members and what else `resampled` names; the same member draws for
        every `resampled` of one seed."""
        if resampled not in RESAMPLED:
            raise ValueError(f"resampled must be one of {RESAMPLED}, got {resampled!r}")
        rows = len(self.counts) if resampled == "members+rows" else None  # None: members only
        return bs.draws(len(self.seeds), rows, n_boot, seed)


@dataclass(frozen=True)
class Statistic:
    """One headline statistic. values(tables, at) -> one value per member (index seed) or per pair
    (index seed_a, seed_b), read from `table`; an empty Series where the condition has none (no
    contextual embeddings kept, no split Fisher rows)."""

    key: str  # how findings and figures refer to it: "js"
    label: str  # readable, for figure titles
    unit: str
    over: str  # "members" | "pairs": what one value belongs to
    resampled: str | None  # one of RESAMPLED; None: summary only, no interval
    table: str  # the tidy table its values are read from
    values: Callable[[Tables, Settings], pd.Series]
    template: str = ""  # its name, from Settings' k and top_p: "js_p{top_p:g}"; empty: the key
    ratio: tuple[str, str] | None = None  # a per-example Fisher share: numerator and denominator in Evidence.rows
    also_in: frozenset[str] = field(default_factory=frozenset)  # "bands", "dynamics", "confidence" (figure)

    def __post_init__(self) -> None:
        if self.over not in ("members", "pairs") or self.resampled not in (*RESAMPLED, None):
            raise ValueError(f"{self.key}: over {self.over!r}, resampled {self.resampled!r}")
        if self.ratio is not None and (self.resampled != "members+rows" or self.over != "members"):
            raise ValueError(f"{self.key}: a ratio is a member statistic resampled by members+rows")

    @property
    def at_positions(self) -> bool:
        """Whether its values are means over the masked positions (Evidence.positions or .pairs)."""
        return self.resampled == "members+rows" and self.ratio is None

    def name(self, at: Settings) -> str:
        """The name in summary.tsv, ci.tsv, findings.tsv, bands.tsv and dynamics.tsv."""
        return (self.template or self.key).format(k=at.k, top_p=at.top_p)

    def finds(self, names) -> str | None:
        """This statistic's name among `names` (read from a table written at some k and top-p), or None."""
        parts = string.Formatter().parse(self.template or self.key)
        pattern = re.compile("".join(re.escape(text) + (_NUMBER if placeholder is not None else "")
                                     for text, placeholder, _, _ in parts))
        return next((n for n in names if pattern.fullmatch(n)), None)

    def replicates(self, values: pd.Series, evidence: Evidence, draws: bs.Draws) -> np.ndarray:
        """Replicates (B,) of point(values) under draws (Evidence.draws(self.resampled, ...))."""
        if self.ratio is not None:
            numerator, denominator = self.ratio
            return bs.member_ratio(evidence.rows[numerator], evidence.rows[denominator], draws)
        if self.at_positions:  # the mean over all masked positions of the drawn rows
            if self.over == "members":
                return bs.member_mean(evidence.positions[self.key], draws, evidence.counts)
            return bs.pair_mean(evidence.pairs[self.key], draws, evidence.counts)
        if self.resampled == "members":
            if self.over == "members":
                return bs.member_mean(values.reindex(list(evidence.seeds)).to_numpy(), draws)
            index = {seed: i for i, seed in enumerate(evidence.seeds)}
            return bs.pair_mean({(index[a], index[b]): v for (a, b), v in values.items()}, draws)
        raise ValueError(f"{self.key} is not resampled")


def point(values: pd.Series) -> float:
    """The point estimate: the mean over members or pairs (summary.tsv's mean, ci.tsv's estimate)."""
    return float(values.mean())


def summary_columns(stat: Statistic, tables: Tables, at: Settings) -> dict[str, float]:
    """`<name>_mean` and `<name>_std` (population std) of a statistic; {} where the condition has none."""
    values = stat.values(tables, at)
    if values.empty:
        return {}
    name = stat.name(at)
    return {f"{name}_mean": point(values), f"{name}_std": float(values.std(ddof=0))}


def uses_context(gain_bits: float, ci_low: float, min_context_bits: float) -> bool:
    """The models learned beyond the unigram plateau: a context gain of at least
    min_context_bits per masked token whose interval lies above 0."""
    return bool(gain_bits >= min_context_bits and ci_low > 0)


# ---- per position: what the member and pair statistics average, and the bootstrap resamples


def member_positions(probs: np.ndarray, targets: np.ndarray, unigram: np.ndarray) -> dict[str, np.ndarray]:
    """One member's values at each masked position, (M,) each. probs (M, V), targets (M,), unigram
    (V,) the unigram model of the training tokens (stats.training_unigram)."""
    return {"entropy_bits": metrics.entropy_bits(probs), "kl_uniform_bits": metrics.kl_uniform_bits(probs),
            "kl_from_uniform_bits": metrics.kl_from_uniform_bits(probs),
            "cross_entropy_bits": metrics.cross_entropy_nats(probs, targets) / np.log(2.0),
            "accuracy": (probs.argmax(axis=-1) == targets).astype(np.float64),
            "unigram_cross_entropy_bits": metrics.unigram_surprisal_bits(unigram, targets),
            CONTEXT_GAIN: metrics.context_gain_bits(probs, targets, unigram)}


def position_rows(predict: np.ndarray) -> np.ndarray:
    """The held-out row (M,) of each masked position of the prediction mask predict (R, T) bool
    (masks.npz): the positions are ordered row-major, as predictions.predict_distributions and
    its targets rows[predict] order them."""
    return np.nonzero(predict)[0]


def member_outputs(positions: Mapping[str, np.ndarray]) -> dict[str, float]:
    """One member's row of outputs.tsv (OUTPUTS): the means of member_positions over positions, and
    the perplexity, 2 ** cross_entropy_bits (exp of the mean cross-entropy in nats)."""
    means = {name: float(values.mean()) for name, values in positions.items()}
    means["perplexity"] = float(2.0 ** means["cross_entropy_bits"])
    return {name: means[name] for name in OUTPUTS}


def pair_positions(p: np.ndarray, q: np.ndarray, js_distance: np.ndarray) -> dict[str, np.ndarray]:
    """One pair's values at each masked position, (M,) each: the JS distance at the summary's top-p
    (metrics.js_distance_top_p, computed with js.tsv's other top-ps) and whether the argmaxes differ."""
    return {"js": js_distance, "disagreement": (p.argmax(axis=-1) != q.argmax(axis=-1)).astype(np.float64)}


def fisher_share(member: pd.DataFrame) -> pd.Series:
    """Each Fisher group's share of one member's total over the model's groups (group, fisher)."""
    return member["fisher"] / member.loc[~member["group"].isin(SPLIT_ROWS), "fisher"].sum()


def fisher_shares(fisher: pd.DataFrame) -> pd.DataFrame:
    """Per member (index seed): the Fisher share of embeddings, all transformer layers, and head,
    from a table of seed, group and share (stats.fisher_table)."""
    fisher = fisher[~fisher["group"].isin(SPLIT_ROWS)]
    kind = fisher["group"].where(~fisher["group"].str.startswith("encoder."), "transformer")
    shares = fisher.assign(part=kind).pivot_table(index="seed", columns="part", values="share", aggfunc="sum")
    return shares.reindex(columns=list(FISHER_PARTS), fill_value=0.0)  # no layers: 0


def fisher_rows(paths: list[str]) -> dict[str, np.ndarray]:
    """Numerators and denominators (S, R) of the per-example Fisher shares, from each member's
    fisher_rows.npz (groups, values (R, G)) in the order of paths: the parts, their total over the
    model's groups, the word embedding's decoder use and both of its uses."""
    parts = {name: [] for name in (*FISHER_PARTS, "total", "decoder", "word")}
    for path in paths:
        data = np.load(path)
        groups, values = list(data["groups"]), data["values"]  # (R, G)
        col = {g: values[:, i] for i, g in enumerate(groups)}
        model = [g for g in groups if g not in SPLIT_ROWS]
        parts["embeddings"].append(col["embeddings"])
        parts["head"].append(col["head"])
        parts["transformer"].append(sum((col[g] for g in model if g.startswith("encoder.")), np.zeros(len(values))))
        parts["total"].append(sum(col[g] for g in model))
        parts["decoder"].append(col["word_decoder"])
        parts["word"].append(col["word_input"] + col["word_decoder"])
    return {name: np.stack(v) for name, v in parts.items()}


# ---- reading one value per member or pair from the tables


def _by_member(table: str, column: str) -> Callable[[Tables, Settings], pd.Series]:
    return lambda tables, at: tables[table].set_index("seed")[column]


def _by_pair(table: str, column: str, where=None) -> Callable[[Tables, Settings], pd.Series]:
    def read(tables: Tables, at: Settings) -> pd.Series:
        df = tables[table]
        return (df if where is None else df[where(df, at)]).set_index(["seed_a", "seed_b"])[column]
    return read


def _context_gain(tables: Tables, at: Settings) -> pd.Series:
    outputs = tables["outputs"].set_index("seed")
    return outputs["unigram_cross_entropy_bits"] - outputs["cross_entropy_bits"]


def _fisher_part(table: str, part: str) -> Callable[[Tables, Settings], pd.Series]:
    return lambda tables, at: fisher_shares(tables[table])[part]


def _decoder_part(tables: Tables, at: Settings) -> pd.Series:
    per_example = tables["fisher_per_example"]
    split = per_example[per_example["group"].isin(SPLIT_ROWS)].pivot_table(index="seed", columns="group",
                                                                           values="fisher")
    if not set(SPLIT_ROWS) <= set(split.columns):
        return pd.Series(dtype=np.float64)
    return split["word_decoder"] / (split["word_input"] + split["word_decoder"])


def _cka(space: str, kernel: str) -> Statistic:
    where = lambda df, at: (df["space"] == space) & (df["kernel"] == kernel)  # noqa: E731
    return Statistic(f"cka_{space}_{kernel}", f"{kernel.replace('_', ' ')} CKA of the {space} embeddings", "CKA",
                     "pairs", "members", "cka", _by_pair("cka", "cka", where),
                     also_in=frozenset({"confidence"} if kernel == "linear" else ()))


def _fisher(part: str) -> Statistic:
    return Statistic(f"fisher_share_{part}", f"share of the {part} in the paper's Fisher", "share of total", "members",
                     "members", "fisher", _fisher_part("fisher", part),
                     also_in=frozenset({"dynamics", "confidence"} if part == "embeddings" else {"dynamics"}))


def _fisher_pe(part: str) -> Statistic:
    return Statistic(f"fisher_pe_share_{part}", f"share of the {part} in the per-example Fisher", "share of total",
                     "members", "members+rows", "fisher_per_example", _fisher_part("fisher_per_example", part),
                     ratio=(part, "total"), also_in=frozenset({"confidence"} if part == "embeddings" else ()))


def _fisher_true(part: str) -> Statistic:
    def read(tables: Tables, at: Settings) -> pd.Series:  # empty: the condition has no true Fisher
        table = tables.get("fisher_true")
        return pd.Series(dtype=np.float64) if table is None or table.empty else fisher_shares(table)[part]
    return Statistic(f"fisher_true_share_{part}", f"share of the {part} in the per-example true Fisher",
                     "share of total", "members", "members+rows", "fisher_true", read,
                     ratio=(f"true_{part}", "true_total"))


def fisher_true_rows(paths: list[str]) -> dict[str, np.ndarray]:
    """fisher_rows of the members' fisher_true_rows.npz, each name prefixed `true_`."""
    return {f"true_{name}": values for name, values in fisher_rows(paths).items()}


def _member(key: str, label: str, unit: str, resampled: str | None, also_in: set[str]) -> Statistic:
    return Statistic(key, label, unit, "members", resampled, "outputs", _by_member("outputs", key),
                     also_in=frozenset(also_in))


STATISTICS: tuple[Statistic, ...] = (
    Statistic(CONTEXT_GAIN, "gain over the unigram model", "bits per masked token", "members", "members+rows",
              "outputs", _context_gain, also_in=frozenset({"dynamics", "confidence"})),
    _member("cross_entropy_bits", "held-out cross-entropy", "bits per masked token", "members+rows",
            {"bands", "dynamics", "confidence"}),
    _member("unigram_cross_entropy_bits", "unigram cross-entropy (no context)", "bits per masked token", None,
            {"dynamics"}),
    _member("kl_uniform_bits", "KL divergence from uniform", "bits", "members+rows",
            {"bands", "dynamics", "confidence"}),
    _member("kl_from_uniform_bits", "KL divergence of uniform from the outputs (v2)", "bits", "members+rows",
            {"bands", "dynamics"}),
    _member("entropy_bits", "entropy of the output distribution", "bits", "members+rows", {"bands", "dynamics"}),
    _member("accuracy", "argmax accuracy", "share of positions", "members+rows",
            {"bands", "dynamics", "confidence"}),
    _member("perplexity", "perplexity", "effective choices", None, {"bands"}),
    Statistic("js", "JS distance between members", "bits", "pairs", "members+rows", "js",
              _by_pair("js", "js_distance", lambda df, at: np.isclose(df["top_p"], at.top_p)),
              template="js_p{top_p:g}", also_in=frozenset({"bands", "dynamics", "confidence"})),
    Statistic("disagreement", "argmax disagreement between members", "share of positions", "pairs",
              "members+rows", "pairs", _by_pair("pairs", "disagreement"),
              also_in=frozenset({"bands", "dynamics", "confidence"})),
    Statistic("spearman", "Spearman of static-embedding similarities", "rho", "pairs", "members", "pairs",
              _by_pair("pairs", "spearman"), also_in=frozenset({"dynamics", "confidence"})),
    Statistic("procrustes", "Procrustes disparity of static embeddings", "disparity", "pairs", "members", "pairs",
              _by_pair("pairs", "procrustes"), also_in=frozenset({"confidence"})),
    Statistic("procrustes_cosine", "mean cosine of Procrustes-aligned static embeddings", "cosine", "pairs",
              "members", "pairs", _by_pair("pairs", "procrustes_cosine")),
    Statistic("jaccard", "top-k neighbour overlap of static embeddings", "Jaccard", "pairs", "members", "topk",
              _by_pair("topk", "jaccard", lambda df, at: df["k"] == at.k), template="jaccard_k{k}",
              also_in=frozenset({"bands", "dynamics", "confidence"})),
    *(_cka(space, kernel) for space in ("contextual", "pooled", "static") for kernel in ("linear", "rbf")),
    *(_fisher(part) for part in FISHER_PARTS),
    *(_fisher_pe(part) for part in FISHER_PARTS),
    Statistic("fisher_pe_word_decoder_part", "decoder's part of the word embedding's per-example Fisher", "share",
              "members", "members+rows", "fisher_per_example", _decoder_part, ratio=("decoder", "word"),
              also_in=frozenset({"confidence"})),
    *(_fisher_true(part) for part in FISHER_PARTS),
    *(_cka(space, "linear_debiased") for space in ("contextual", "static")),
)
BY_KEY: dict[str, Statistic] = {stat.key: stat for stat in STATISTICS}
# summary.tsv's leading columns (stats.context_summary): whether the models use context
CONTEXT = (CONTEXT_GAIN, "cross_entropy_bits", "unigram_cross_entropy_bits")


def appearing_in(output: str) -> tuple[Statistic, ...]:
    """The statistics that `output` ("bands", "dynamics", "confidence") shows, in registry order."""
    return tuple(stat for stat in STATISTICS if output in stat.also_in)


@dataclass(frozen=True)
class Finding:
    """One of the paper's findings: a claimed direction of a statistic, DNA against text."""

    text: str
    statistic: str  # a key of BY_KEY
    direction: str  # "greater" | "less": DNA against text
    definition: str = "paper"  # one of DEFINITIONS: whose definition of the statistic the row tests

    def __post_init__(self) -> None:
        if self.statistic not in BY_KEY or self.direction not in ("greater", "less"):
            raise ValueError(f"finding {self.text!r}: statistic {self.statistic!r}, direction {self.direction!r}")
        if self.definition not in DEFINITIONS:
            raise ValueError(f"finding {self.text!r}: definition {self.definition!r} is none of {DEFINITIONS}")

    @property
    def claim(self) -> str:
        return f"DNA {'<' if self.direction == 'less' else '>'} text"


# paper: the paper's code (v1 and v2 where they agree); paper v1 / paper v2: one version's; beyond: ours
DEFINITIONS = ("paper", "paper v1", "paper v2", "beyond")
FINDINGS = (
    Finding("DNA outputs are nearer uniform", "kl_uniform_bits", "less", "paper v1"),
    Finding("DNA outputs are nearer uniform", "kl_from_uniform_bits", "less", "paper v2"),
    Finding("DNA members disagree more", "js", "greater"),
    Finding("DNA members disagree more", "disagreement", "greater", "beyond"),
    Finding("DNA static embeddings are less consistent", "jaccard", "less"),
    Finding("DNA static embeddings are less consistent", "spearman", "less"),
    Finding("DNA static embeddings are less consistent", "procrustes", "greater"),
    Finding("DNA static embeddings are less consistent", "procrustes_cosine", "less"),
    Finding("DNA static embeddings are less consistent", "cka_static_linear_debiased", "less", "beyond"),
    Finding("DNA models hold more Fisher in the embeddings", "fisher_share_embeddings", "greater"),
    Finding("DNA models hold more Fisher in the embeddings", "fisher_pe_share_embeddings", "greater", "beyond"),
    Finding("DNA models hold more Fisher in the embeddings", "fisher_true_share_embeddings", "greater", "beyond"),
)
