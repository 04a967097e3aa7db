"""The gradient geometry of the token interface against the hidden weights (beyond the paper).

An alternative reading of the paper's Fisher finding (DNA models hold their Fisher information in
the embeddings): the embedding table and the LM head get sparse, low-rank, frequency-shaped
gradients unlike the dense hidden weights (arXiv 2607.01455), whatever the data. Per member, on
the held-out rows the per-example Fisher uses (the `extract.geometry_rows` drawn first, a uniform
sample), the per-example gradient matrix G (n_rows x n_params) of each group:

- word_input, word_decoder: the tied word embedding's two uses, apart (fisher.row_gradients: the
  input lookup's gradient and the output projection's, formed separately; their sum is the tied
  gradient);
  in an untied model the input embedding and the decoder matrix;
- position, token_type: the position and token-type embeddings;
- encoder.0 .. encoder.{L-1}: every parameter of each encoder layer;
- head_transform: the MLM head's dense layer and LayerNorm.
(The embedding LayerNorm and the output bias are left out.)

From the singular values s of G, computed as the square roots of the eigenvalues of the n x n
Gram matrix G G^T (n << n_params; eigenvalues below n x eps x the largest count as 0):
- effective_rank = exp(H(p)), p_i = s_i / sum(s) (Roy & Vetterli 2007): 1 for a rank-1 G, n for
  n orthogonal rows of equal norm;
- stable_rank = ||G||_F^2 / ||G||_2^2 = sum(s^2) / max(s^2): 1 for rank 1, at most the rank.
And for the two word-embedding uses, from the gradient mass (squared norm, summed over the rows)
of each embedding row: special_share, the share on the special tokens' rows ([MASK] above all: the
input use of every masked position), and frequent_share, the share of the ordinary tokens' mass on
the rows of the 10% most frequent ordinary tokens of the training tokens (ranked by count, ties by
id), beside frequent_train_share, those tokens' share of the ordinary training tokens (the share a
gradient proportional to frequency would give).

extract writes per member gradient_geometry.npz (gradient_grams); the stats rule writes
gradient_geometry_members.tsv (member x group x statistic, member_table) and gradient_geometry.tsv
(the mean over members with a members-only Multi-Bootstrap interval, as the paper's Fisher's: the
rows are not resampled, since a duplicated row lowers a rank; ci_table), with the contrasts
`word_input - encoder` and `word_decoder - encoder` (a word use's value minus the mean over the
member's encoder layers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits.layout import PIPELINE_SPECIAL_IDS

STATISTICS = ("effective_rank", "stable_rank")
FREQUENCY_STATISTICS = ("special_share", "frequent_share", "frequent_train_share")
WORD_USES = ("word_input", "word_decoder")
ENCODER = "encoder"  # the contrasts' reference: the mean over the encoder layers
FREQUENT_FRACTION = 0.1
MEMBER_COLUMNS = ("seed", "group", "statistic", "value", "rows", "n_params")
CI_COLUMNS = ("group", "statistic", "estimate", "ci_low", "ci_high", "n_boot", "members", "level")


def contrast(use: str) -> str:
    return f"{use} - {ENCODER}"


# ---- the groups (the extract side, gradient_grams.py, and the figures use them) ----

def geometry_group(name: str) -> str | None:
    """The geometry group of a model.Bert parameter; None for those left out."""
    if name == "word.weight":
        return "word_input"
    if name == "head_decoder":
        return "word_decoder"
    if name in ("position.weight", "token_type.weight"):
        return name.split(".")[0]
    if name.startswith("layers."):
        return f"encoder.{name.split('.')[1]}"
    if name.startswith(("head_dense.", "head_norm.")):
        return "head_transform"
    return None


def group_order(group: str) -> tuple[int, int]:
    fixed = {"word_input": 0, "position": 1, "token_type": 2, "head_transform": 4, "word_decoder": 5}
    return (3, int(group.split(".")[1])) if group.startswith("encoder.") else (fixed[group], 0)


# ---- statistics side (numpy) ----

def singular_values(gram: np.ndarray) -> np.ndarray:
    """The singular values of G from its Gram matrix G G^T (n, n), largest first; eigenvalues
    below n x eps x the largest are rounding and count as 0."""
    lam = np.linalg.eigvalsh(np.asarray(gram, dtype=np.float64))[::-1]
    lam = np.where(lam > len(lam) * np.finfo(np.float64).eps * max(lam[0], 0.0), lam, 0.0)
    return np.sqrt(lam)


def effective_rank(s: np.ndarray) -> float:
    """exp of the Shannon entropy of s / sum(s); NaN for a zero matrix."""
    if s.sum() <= 0:
        return math.nan
    p = s[s > 0] / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def stable_rank(s: np.ndarray) -> float:
    """||G||_F^2 / ||G||_2^2 = sum(s^2) / max(s)^2; NaN for a zero matrix."""
    return float(np.sum(s**2) / s.max() ** 2) if s.max() > 0 else math.nan


def frequent_tokens(train_tokens: np.ndarray, vocab_size: int, special: Sequence[int] = PIPELINE_SPECIAL_IDS,
                    fraction: float = FREQUENT_FRACTION) -> tuple[np.ndarray, float]:
    """The ids of the ceil(fraction x V') most frequent ordinary (non-special) token types of the
    training tokens (ties by id), and their share of the ordinary training tokens."""
    ordinary = np.setdiff1d(np.arange(vocab_size), np.asarray(special, dtype=np.int64))
    counts = np.bincount(train_tokens.ravel(), minlength=vocab_size)[:vocab_size]
    order = ordinary[np.argsort(-counts[ordinary], kind="stable")]
    top = order[: math.ceil(fraction * len(ordinary))]
    return top, float(counts[top].sum() / max(counts[ordinary].sum(), 1))


def share(row_mass: np.ndarray, rows: np.ndarray, of: np.ndarray | None = None) -> float:
    """The share of the gradient mass (V,) on `rows`, of the mass on the rows `of` (all rows when
    None); NaN where that is 0."""
    total = float(np.sum(row_mass if of is None else row_mass[of]))
    return float(np.sum(row_mass[rows]) / total) if total > 0 else math.nan


def member_rows(seed: int, data: dict, frequent: np.ndarray, train_share: float,
                special: Sequence[int] = PIPELINE_SPECIAL_IDS) -> list[dict]:
    """gradient_geometry_members.tsv's rows of one member's gradient_geometry.npz; frequent and
    train_share from frequent_tokens."""
    n = int(data["gram"].shape[1])
    rows = []
    for group, gram, p in zip(data["groups"], data["gram"], data["n_params"]):
        s = singular_values(gram)
        rows += [{"seed": seed, "group": str(group), "statistic": name, "value": fn(s), "rows": n, "n_params": int(p)}
                 for name, fn in (("effective_rank", effective_rank), ("stable_rank", stable_rank))]
    for use, key in zip(WORD_USES, ("row_mass_input", "row_mass_decoder")):
        special_ids = np.asarray(special, dtype=np.int64)
        ordinary = np.setdiff1d(np.arange(data[key].size), special_ids)
        for name, value in (("special_share", share(data[key], special_ids)),
                            ("frequent_share", share(data[key], frequent, of=ordinary)),
                            ("frequent_train_share", train_share)):
            rows.append({"seed": seed, "group": use, "statistic": name, "value": value, "rows": n,
                         "n_params": int(data[key].size)})
    return rows


def member_table(paths: dict[int, str], train_tokens: np.ndarray,
                 special: Sequence[int] = PIPELINE_SPECIAL_IDS) -> pd.DataFrame:
    """gradient_geometry_members.tsv from the members' gradient_geometry.npz (seed -> path)."""
    rows = []
    for seed, path in sorted(paths.items()):
        data = dict(np.load(path))
        frequent, train_share = frequent_tokens(train_tokens, len(data["row_mass_input"]), special)
        rows += member_rows(seed, data, frequent, train_share, special)
    return pd.DataFrame(rows, columns=list(MEMBER_COLUMNS))


def _by_member(members: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """(group, statistic) -> values by seed, with the contrasts of the word uses to the encoder mean."""
    values = {key: df.set_index("seed")["value"].sort_index() for key, df in members.groupby(["group", "statistic"])}
    encoder = members[members["group"].str.startswith(f"{ENCODER}.")]
    for name in STATISTICS:
        layers = encoder[encoder["statistic"] == name]
        if layers.empty:
            continue
        mean = layers.groupby("seed")["value"].mean().sort_index()
        for use in WORD_USES:
            if (use, name) in values:
                values[(contrast(use), name)] = values[(use, name)] - mean
    return values


def ci_table(members: pd.DataFrame, *, n_boot: int, level: float, seed: int) -> pd.DataFrame:
    """gradient_geometry.tsv: per group (and contrast) and statistic, the mean over members with
    a percentile interval of the members resampled with replacement (bootstrap.draws without
    examples, `seed` the condition's); no interval where a member's value is not finite."""
    if members.empty:
        return pd.DataFrame(columns=list(CI_COLUMNS))
    values = _by_member(members)
    n_seeds = len(next(iter(values.values())))
    draws = bs.draws(n_seeds, None, n_boot, seed)
    rows = []
    for (group, name), v in values.items():
        v = v.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(v)) and len(v) == n_seeds:
            ci = bs.summarize_ci(float(v.mean()), bs.member_mean(v, draws), level)
        else:
            ci = {"estimate": float(np.nanmean(v)) if np.isfinite(v).any() else math.nan, "ci_low": math.nan,
                  "ci_high": math.nan, "n_boot": 0}
        rows.append({"group": group, "statistic": name, **ci, "members": len(v), "level": level})
    order = {g: i for i, g in enumerate(dict.fromkeys(members["group"]))}
    table = pd.DataFrame(rows, columns=list(CI_COLUMNS))
    table["_order"] = table["group"].map(lambda g: order.get(g, len(order)))
    return table.sort_values(["_order", "statistic"], kind="stable").drop(columns="_order").reset_index(drop=True)


SUMMARY = tuple((contrast(use), name) for use in WORD_USES for name in STATISTICS) + tuple(
    (use, name) for use in WORD_USES for name in ("frequent_share", "frequent_train_share"))


def summary_columns(table: pd.DataFrame | None) -> dict:
    """summary.tsv's gradient-geometry columns from gradient_geometry.tsv: for each (group,
    statistic) of SUMMARY, `grad_<statistic>_<group>` (the contrasts as `<use>_minus_encoder`)
    with `_ci_low` and `_ci_high`; {} without the table."""
    if table is None or table.empty:
        return {}
    df = table.set_index(["group", "statistic"])
    row = {}
    for group, name in SUMMARY:
        if (group, name) in df.index:
            r = df.loc[(group, name)]
            stem = f"grad_{name}_{group.replace(' - ', '_minus_')}"
            row |= {stem: float(r["estimate"]), f"{stem}_ci_low": float(r["ci_low"]),
                    f"{stem}_ci_high": float(r["ci_high"])}
    return row
