"""The registry of headline statistics (headline.py): for every statistic, summary.tsv's mean and
ci.tsv's estimate are one number, equal to an independent computation from the synthetic
members' raw data (scipy, plain loops), and its replicates equal a loop over the Multi-Bootstrap
draws; every name is found back from a table; and no module of the package imports itself back."""

import ast
import itertools
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.spatial.distance import cdist, jensenshannon
from scipy.stats import entropy, spearmanr

from gfm_limits import bootstrap as bs
from gfm_limits import headline
from gfm_limits.headline import STATISTICS, Settings
from gfm_limits.layout import TABLES
from gfm_limits.stats import StatsConfig, condition_summary, summarize
from synthetic import GROUPS, ROWS, M, V, unigram_by_hand, write_condition

from conftest import ROOT

CFG = StatsConfig(top_k=[1, 3, 5], summary_k=3, summary_top_p=0.5, bootstrap=60)
AT = Settings(CFG.summary_k, CFG.summary_top_p)
SEEDS = (1, 2, 3)
PAIRS = list(itertools.combinations(range(len(SEEDS)), 2))  # by index into SEEDS
PACKAGE = ROOT / "scripts" / "gfm_limits"


@dataclass
class ByHand:
    """One statistic computed independently: its value per member or pair (in SEEDS / PAIRS order)
    and what its replicates resample: (S, M) per position, {pair: (M,)} per position (both resampled
    by the positions' rows), or the per-example Fisher's rows."""

    values: np.ndarray
    positions: np.ndarray | dict | None = None
    rows: tuple[np.ndarray, np.ndarray] | None = None


def truncated(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Each row's most likely tokens while their cumulative mass is <= top_p (the top one always), renormalised."""
    out = np.zeros_like(probs)
    for row, p in zip(out, probs):
        order = np.argsort(-p, kind="stable")
        keep = order[: max(1, int((np.cumsum(p[order]) <= top_p).sum()))]
        row[keep] = p[keep] / p[keep].sum()
    return out


def neighbours(cos: np.ndarray, k: int) -> list[set]:
    return [set([j for j in np.argsort(-row, kind="stable") if j != i][:k]) for i, row in enumerate(cos)]


def cosine(x: np.ndarray) -> np.ndarray:
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return unit @ unit.T


def hsic_cka(k: np.ndarray, m: np.ndarray) -> float:
    """CKA of two kernels by Kornblith et al.'s formula with an explicit centring matrix."""
    h = np.eye(len(k)) - 1.0 / len(k)
    hsic = lambda a, b: np.trace(a @ h @ b @ h)  # noqa: E731
    return hsic(k, m) / np.sqrt(hsic(k, k) * hsic(m, m))


def debiased_cka_by_loops(x: np.ndarray, y: np.ndarray) -> float:
    """Debiased linear CKA: Song et al.'s unbiased HSIC written out with loops over i != j."""
    def hsic(a, b):
        k, m = a @ a.T, b @ b.T
        n = len(k)
        off = [(i, j) for i in range(n) for j in range(n) if i != j]
        trace = sum(k[i, j] * m[j, i] for i, j in off)
        sums = sum(k[i, j] for i, j in off) * sum(m[i, j] for i, j in off)
        triple = sum(k[i, j] * m[j, q] for i, j in off for q in range(n) if q != j)
        return (trace + sums / ((n - 1) * (n - 2)) - 2 * triple / (n - 2)) / (n * (n - 3))
    x, y = x - x.mean(0), y - y.mean(0)
    return hsic(x, y) / np.sqrt(hsic(x, x) * hsic(y, y))


def rbf(x: np.ndarray) -> np.ndarray:
    """ckatorch's RBF kernel (the default bandwidth): sigma^2 = threshold^2 x the lower median of
    all n^2 squared distances, the zeros of each item with itself included."""
    d2 = cdist(x, x, "sqeuclidean")
    lower_median = np.sort(d2.ravel())[(d2.size - 1) // 2]
    return np.exp(-d2 / (2 * CFG.cka_sigma**2 * lower_median))


def procrustes_by_svd(a: np.ndarray, b: np.ndarray) -> float:
    """1 - (sum of singular values of A'B)^2, A and B centred and scaled to unit Frobenius norm."""
    a, b = a - a.mean(0), b - b.mean(0)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    return 1.0 - np.linalg.svd(a.T @ b, compute_uv=False).sum() ** 2


def procrustes_cosine_by_svd(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine between A's rows and B's rows rotated onto A (both centred; the orthogonal
    U V' of the SVD of B'A; scaling does not change a cosine)."""
    a, b = a - a.mean(0), b - b.mean(0)
    u, _, vt = np.linalg.svd(b.T @ a)
    aligned = b @ u @ vt
    return float(np.mean([x @ y / (np.linalg.norm(x) * np.linalg.norm(y)) for x, y in zip(a, aligned)]))


def by_hand(data: dict) -> dict[str, ByHand]:
    """Every statistic of the registry, by key, from the raw synthetic members."""
    targets, q = data["targets"], unigram_by_hand(data["tokens"])
    probs = [data["probs"][s].astype(np.float64) for s in SEEDS]
    p_target = np.stack([p[np.arange(M), targets] for p in probs])  # (S, M)
    h = np.stack([entropy(p, base=2, axis=1) for p in probs])
    per_position = {"context_gain_bits": np.log2(p_target) - np.log2(q[targets]),
                    "cross_entropy_bits": -np.log2(p_target),
                    "kl_uniform_bits": np.stack([entropy(p, np.full(V, 1 / V), base=2, axis=1) for p in probs]),
                    # KL(U || p), p clamped at 1e-10 as the paper (the special ids have p = 0)
                    "kl_from_uniform_bits": np.stack([entropy(np.full(V, 1 / V), np.maximum(p, 1e-10), base=2,
                                                              axis=1) for p in probs]),
                    "entropy_bits": h, "accuracy": np.stack([p.argmax(1) == targets for p in probs]).astype(float)}
    out = {key: ByHand(x.mean(axis=1), x) for key, x in per_position.items()}
    out["unigram_cross_entropy_bits"] = ByHand(np.full(len(SEEDS), -np.log2(q[targets]).mean()))
    out["perplexity"] = ByHand(np.exp(-np.log(p_target).mean(axis=1)))
    js = {(i, j): np.array([jensenshannon(a, b, base=2) for a, b in zip(truncated(probs[i], AT.top_p),
                                                                         truncated(probs[j], AT.top_p))])
          for i, j in PAIRS}
    differ = {(i, j): (probs[i].argmax(1) != probs[j].argmax(1)).astype(float) for i, j in PAIRS}
    out["js"] = ByHand(np.array([js[p].mean() for p in PAIRS]), js)
    out["disagreement"] = ByHand(np.array([differ[p].mean() for p in PAIRS]), differ)
    static = [data["embeddings"][s] for s in SEEDS]
    cos = [cosine(e) for e in static]
    nn = [neighbours(c, AT.k) for c in cos]
    out["spearman"] = ByHand(np.array([np.mean([spearmanr(np.delete(cos[i][t], t), np.delete(cos[j][t], t)).statistic
                                                for t in range(V)]) for i, j in PAIRS]))
    out["procrustes"] = ByHand(np.array([procrustes_by_svd(static[i], static[j]) for i, j in PAIRS]))
    out["procrustes_cosine"] = ByHand(np.array([procrustes_cosine_by_svd(static[i], static[j]) for i, j in PAIRS]))
    out["jaccard"] = ByHand(np.array([np.mean([len(x & y) / len(x | y) for x, y in zip(nn[i], nn[j])])
                                      for i, j in PAIRS]))
    spaces = {"static": static, "contextual": [data["hidden"][s].astype(np.float64) for s in SEEDS],
              "pooled": [data["pooled"][s].astype(np.float64) for s in SEEDS]}
    kernels = {"linear": lambda x: x @ x.T, "rbf": rbf}
    for (space, mats), (kernel, gram) in itertools.product(spaces.items(), kernels.items()):
        out[f"cka_{space}_{kernel}"] = ByHand(np.array([hsic_cka(gram(mats[i]), gram(mats[j])) for i, j in PAIRS]))
    part_of = {"embeddings": "embeddings", "transformer": "encoder.0", "head": "head"}
    for part, group in part_of.items():
        paper = [data["fisher"][s].set_index("group")["fisher"] for s in SEEDS]
        out[f"fisher_share_{part}"] = ByHand(np.array([f[group] / f[GROUPS].sum() for f in paper]))
        rows = np.stack([data["rows"][s] for s in SEEDS])  # (S, R, G): columns GROUPS, word_input, word_decoder
        num, den = rows[:, :, GROUPS.index(group)], rows[:, :, : len(GROUPS)].sum(axis=2)
        out[f"fisher_pe_share_{part}"] = ByHand(num.sum(1) / den.sum(1), rows=(num, den))
        true = np.stack([data["true_rows"][s] for s in SEEDS])  # (S, R, G), as rows
        num, den = true[:, :, GROUPS.index(group)], true[:, :, : len(GROUPS)].sum(axis=2)
        out[f"fisher_true_share_{part}"] = ByHand(num.sum(1) / den.sum(1), rows=(num, den))
    for space, mats in spaces.items():
        out[f"cka_{space}_linear_debiased"] = ByHand(np.array([debiased_cka_by_loops(mats[i], mats[j])
                                                               for i, j in PAIRS]))
    word = np.stack([data["rows"][s][:, -2:] for s in SEEDS])  # (S, R, 2)
    out["fisher_pe_word_decoder_part"] = ByHand(word[:, :, 1].sum(1) / word.sum(axis=(1, 2)),
                                                rows=(word[:, :, 1], word.sum(axis=2)))
    return out


def replicates_by_loop(stat, hand: ByHand, name: str, predict: np.ndarray) -> np.ndarray:
    """The replicates as a loop over the condition's draws (the same seed for every resampling):
    a statistic at the masked positions is the mean over every masked position of the drawn rows
    (predict (ROWS, T): each row's masked positions, numbered row by row), a row drawn twice
    counted twice."""
    examples = {"members": None, "members+rows": ROWS}[stat.resampled]
    d = bs.draws(len(SEEDS), examples, CFG.bootstrap, zlib.crc32(name.encode()))
    row_of = [r for r in range(ROWS) for t in range(predict.shape[1]) if predict[r, t]]  # (M,)
    out = []
    for b, members in enumerate(d.seeds):
        ex = None if d.examples is None else d.examples[b]
        at = None if ex is None else [m for r in ex for m in range(M) if row_of[m] == r]  # drawn positions
        if hand.rows is not None:
            num, den = hand.rows
            out.append(np.mean([num[m, ex].sum() / den[m, ex].sum() for m in members]))
        elif stat.over == "members":
            out.append(np.mean([hand.positions[m, at].mean() if ex is not None else hand.values[m] for m in members]))
        else:
            terms = [hand.positions[min(i, j), max(i, j)][at].mean() if ex is not None
                     else hand.values[PAIRS.index((min(i, j), max(i, j)))]
                     for x, i in enumerate(members) for j in members[x + 1:] if i != j]
            out.append(np.mean(terms) if terms else np.nan)
    return np.array(out)


@pytest.fixture(scope="module")
def condition(tmp_path_factory):
    root = tmp_path_factory.mktemp("headline")
    data = write_condition(root / "cond", "cond", 2.0, np.random.default_rng(3), CFG, seeds=SEEDS)
    tables = {"cond": {t: str(root / "cond" / f"{t}.tsv") for t in TABLES}}
    summary = summarize(tables, {"cond": str(root / "cond" / "replicates.npz")}, str(root / "summary.tsv"),
                        k=AT.k, top_p=AT.top_p,
                        baselines={"cond": str(root / "cond" / "baselines.tsv")})
    return {"root": root, "data": data, "hand": by_hand(data), "on_disk": summary.iloc[0],
            "in_memory": condition_summary("cond", data["tables"], k=AT.k, top_p=AT.top_p, min_context_bits=0.5)}


@pytest.mark.parametrize("stat", STATISTICS, ids=lambda stat: stat.key)
def test_summary_mean_and_ci_estimate_are_one_number_equal_to_an_independent_computation(condition, stat):
    # scipy's entropy renormalises the float32 probabilities, which sum to 1 within ~1e-7
    name, hand = stat.name(AT), condition["hand"][stat.key]
    in_memory, on_disk = condition["in_memory"], condition["on_disk"]
    assert in_memory[f"{name}_mean"] == pytest.approx(hand.values.mean(), rel=1e-7, abs=1e-12)
    assert in_memory[f"{name}_std"] == pytest.approx(hand.values.std(), rel=1e-6, abs=1e-12)
    assert on_disk[f"{name}_mean"] == pytest.approx(hand.values.mean(), rel=2e-7, abs=1e-9)  # tables keep 8 digits
    ci = condition["data"]["tables"]["ci"].set_index("statistic")
    if stat.resampled is None:
        assert name not in ci.index
        return
    assert ci.loc[name, "estimate"] == in_memory[f"{name}_mean"]  # the same function of the same values
    assert ci.loc[name, "resampled"] == stat.resampled
    replicates = np.load(condition["root"] / "cond" / "replicates.npz")[name]
    loop = replicates_by_loop(stat, hand, "cond", condition["data"]["masks"]["predict"])
    np.testing.assert_allclose(replicates, loop, rtol=1e-7, atol=1e-12)


def test_statistics_a_condition_lacks_are_left_out_of_summary_and_intervals(tmp_path):
    # two hidden states per member: no contextual CKA (stats.cka_table needs three items)
    data = write_condition(tmp_path / "few", "few", 1.0, np.random.default_rng(4), CFG, seeds=(1, 2), hidden_rows=2)
    row = condition_summary("few", data["tables"], k=AT.k, top_p=AT.top_p, min_context_bits=0.5)
    ci = data["tables"]["ci"]["statistic"].tolist()
    for stat in STATISTICS:
        name = stat.name(AT)
        absent = stat.key.startswith("cka_contextual")
        assert (f"{name}_mean" in row) != absent, name
        assert (name in ci) == (stat.resampled is not None and not absent), name


def test_member_outputs_by_hand():
    probs = np.array([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6]])
    unigram = np.array([0.5, 0.25, 0.25])
    out = headline.member_outputs(headline.member_positions(probs, np.array([0, 1]), unigram))
    assert out["accuracy"] == 0.5
    # mean NLL = (ln 2 + ln 5) / 2 -> perplexity sqrt(10)
    assert out["perplexity"] == pytest.approx(np.sqrt(10.0))
    assert out["cross_entropy_bits"] == pytest.approx((1.0 + np.log2(5.0)) / 2)
    assert out["unigram_cross_entropy_bits"] == pytest.approx(1.5)  # -log2 1/2, -log2 1/4
    assert out["entropy_bits"] == pytest.approx(np.mean([1.5, entropy([0.2, 0.2, 0.6], base=2)]))


def test_perplexity_of_uniform_is_vocabulary_size():
    probs = np.full((4, 100), 0.01)
    out = headline.member_outputs(headline.member_positions(probs, np.arange(4), np.full(100, 0.01)))
    assert out["perplexity"] == pytest.approx(100.0) and out["kl_uniform_bits"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("at", [Settings(10, 1.0), Settings(3, 0.05), Settings(100, 1e-5)])
def test_every_name_is_found_back_among_the_others(at):
    names = [stat.name(at) for stat in STATISTICS]
    assert len(set(names)) == len(names)
    for stat in STATISTICS:
        assert stat.finds(names[::-1]) == stat.name(at)
        assert stat.finds([n for n in names if n != stat.name(at)]) is None
    assert headline.BY_KEY["js"].finds(["js_p1", "js_p0.5"]) == "js_p1"  # the first of a table's names


def _imports(path) -> set[str]:
    """The package modules a module imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("gfm_limits.")}
        elif isinstance(node, ast.ImportFrom) and node.module == "gfm_limits":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gfm_limits."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.level:
            found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    return found


def test_no_module_of_the_package_imports_itself_back():
    graph = {path.stem: _imports(path) for path in PACKAGE.glob("*.py")}
    assert {"stats", "confidence", "headline"} <= set(graph)

    def cycle_from(module, path):
        if module in path:
            return path[path.index(module):] + [module]
        for other in sorted(graph.get(module, ())):
            if (found := cycle_from(other, path + [module])) is not None:
                return found
        return None

    for module in graph:
        assert (found := cycle_from(module, [])) is None, " -> ".join(found)
    assert graph["headline"] <= {"bootstrap", "metrics"}  # a leaf: never stats or confidence


def test_headline_alone_loads_no_other_module_of_the_package():
    code = "import sys, gfm_limits.headline; print(sorted(m for m in sys.modules if m.startswith('gfm_limits')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
    assert result.returncode == 0, result.stderr
    loaded = set(ast.literal_eval(result.stdout))
    assert loaded == {"gfm_limits", "gfm_limits.headline", "gfm_limits.bootstrap", "gfm_limits.metrics"}


def test_the_findings_refer_to_registered_statistics_by_key():
    with pytest.raises(ValueError, match="statistic 'js_p1'"):
        headline.Finding("a finding named by its name, not its key", "js_p1", "greater")
    assert headline.Finding("x", "js", "less").claim == "DNA < text"
    assert headline.Finding("x", "js", "greater").claim == "DNA > text"
    with pytest.raises(ValueError, match="definition 'v3'"):
        headline.Finding("x", "js", "less", "v3")


def test_every_finding_can_be_tested_and_each_claim_has_the_papers_definition():
    """A finding needs replicates (a statistic with no interval would silently drop out of
    findings.tsv), and each claim is tested at least once as the paper defined it."""
    assert all(headline.BY_KEY[f.statistic].resampled is not None for f in headline.FINDINGS)
    for text in {f.text for f in headline.FINDINGS}:
        assert any(f.definition.startswith("paper") for f in headline.FINDINGS if f.text == text), text
    assert len({(f.statistic, f.definition) for f in headline.FINDINGS}) == len(headline.FINDINGS)


def test_evidence_sums_positions_by_row_and_checks_the_fisher_rows():
    positions = {1: {"accuracy": np.array([1.0, 0.0, 1.0])}, 2: {"accuracy": np.array([0.0, 0.0, 1.0])}}
    pairs = {(1, 2): {"disagreement": np.array([1.0, 0.0, 0.0])}}
    rows = {"total": np.ones((2, 2))}
    evidence = headline.Evidence.gather(positions, pairs, rows, row_of=np.array([0, 0, 1]), n_rows=2)
    np.testing.assert_array_equal(evidence.positions["accuracy"], [[1.0, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(evidence.pairs["disagreement"][(0, 1)], [1.0, 0.0])
    np.testing.assert_array_equal(evidence.counts, [2.0, 1.0])
    with pytest.raises(ValueError, match=r"per-example Fisher has \[2\] rows, the predictions' masks 3"):
        headline.Evidence.gather(positions, pairs, rows, row_of=np.array([0, 0, 1]), n_rows=3)
