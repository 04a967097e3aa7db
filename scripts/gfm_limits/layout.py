"""Names shared across stages: statistics tables, figures, special tokens.

Kept free of heavy imports: the Snakefile reads them to declare outputs, and
the stats environment (no tokenizers library) knows the special-token ids.
"""

# Every tokenizer this pipeline builds puts these first, so their ids are 0..4 in this order.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PIPELINE_SPECIAL_IDS = tuple(range(len(SPECIAL_TOKENS)))
# Imported tokenizers put their own elsewhere: special_tokens.py reads them by role (pad, unk, cls, sep, mask).

# In every member's model folder: how it was trained (train.py) or where it was imported from (imported.py).
MEMBER_RECORD = "training.json"

TABLES = ("outputs", "js", "pairs", "topk", "fisher", "fisher_per_example", "sorted_probs", "cka", "bands", "ci",
          "fisher_true", "geometry", "repeats", "repeats_ci", "gradient_geometry", "gradient_geometry_members")
# repeats.tsv (stats.repeats_table), in long format: the statistics at the masked positions whose
# target token is a repeat (soft-masked in the FASTA) or not; seed_b is empty for a member's own.
REPEAT_COLUMNS = ("region", "statistic", "seed_a", "seed_b", "value", "positions")
REPEAT_MEMBER_STATISTICS = ("cross_entropy_bits", "unigram_cross_entropy_bits", "context_gain_bits", "entropy_bits",
                            "kl_uniform_bits")
REPEAT_PAIR_STATISTICS = {"js_distance": "js", "disagreement": "disagreement"}  # name -> headline.pair_positions key
# repeats_ci.tsv (stats.repeats_ci_table): each of those per region with its Multi-Bootstrap interval, and
# the paired difference of the regions (REPEAT_DIFFERENCE)
REPEAT_CI_COLUMNS = ("region", "statistic", "estimate", "ci_low", "ci_high", "n_boot", "positions", "level")
REPEAT_DIFFERENCE = "repeat - non-repeat"

FIGURES = ("context", "output_distribution", "js_top_p", "fisher_shares", "embedding_consistency", "training_curves",
           "confidence", "findings", "frequency_bands", "cka", "baselines", "dynamics", "geometry", "repeats",
           "gradient_geometry", "rc_symmetry")

# dynamics.tsv, the statistics over training (dynamics.py), in long format; seed_b is empty for
# a member's own statistics. Which statistics: headline.appearing_in("dynamics").
DYNAMICS_COLUMNS = ("step", "tokens", "final", "statistic", "seed_a", "seed_b", "value")


# The report's sections, in reading order: whether the models use context comes before any finding.
# Every report(...) of the rules takes its category, subcategory and readable label from here.
REPORT_CATEGORIES = ("0. Scorecard", "1. Context use", "2. Findings", "3. The paper's statistics",
                     "4. Beyond the paper", "5. Provenance")
# item -> (index into REPORT_CATEGORIES, subcategory, label); figures by their name in FIGURES
REPORT_ITEMS = {
    "scorecard": (0, "The paper's claims", "Scorecard table"),
    "scorecard_html": (0, "The paper's claims", "Scorecard, standalone page"),
    "context": (1, "Do the models use context?", "Cross-entropy against the unigram model"),
    "summary": (1, "Do the models use context?", "Summary table, one row per condition"),
    "dynamics": (1, "Over training", "Statistics at every snapshot"),
    "training_curves": (1, "Over training", "Training loss of every member"),
    "baselines": (1, "Context baselines", "Model between no context and the best baseline"),
    "baselines_table": (1, "Context baselines", "Baselines of one condition"),
    "findings_table": (2, "DNA against text", "Findings table"),
    "findings": (2, "DNA against text", "Differences with their intervals"),
    "confidence": (2, "Per condition", "Headline statistics with intervals"),
    "output_distribution": (3, "Outputs", "Sorted output distribution"),
    "js_top_p": (3, "Disagreement between members", "Jensen-Shannon distance against top-p"),
    "embedding_consistency": (3, "Static embeddings", "Nearest-neighbour overlap against k"),
    "fisher_shares": (3, "Fisher information", "Fisher share by part and group"),
    "frequency_bands": (4, "By token frequency", "Statistics by frequency band"),
    "cka": (4, "Representations", "CKA between members"),
    "geometry": (4, "Representations", "Hidden-state geometry by layer"),
    "repeats": (4, "Repeats", "Repeats against the rest"),
    "gradient_geometry": (4, "Gradient geometry", "Effective and stable rank of the per-example gradients"),
    "rc_symmetry": (4, "Reverse-complement symmetry", "Predictions and embeddings of a sequence and its RC"),
    "provenance": (5, "What produced these results", "Provenance table"),
}


def report_item(name: str) -> dict:
    """category, subcategory and labels of a report item (REPORT_ITEMS), as report(...) takes them.
    Subcategories are numbered within their category in the order of REPORT_ITEMS ("1.2 Over
    training"), since the report sorts them by name."""
    index, subcategory, label = REPORT_ITEMS[name]
    within = list(dict.fromkeys(sub for i, sub, _ in REPORT_ITEMS.values() if i == index))
    number = f"{index}.{within.index(subcategory) + 1}"
    return {"category": REPORT_CATEGORIES[index], "subcategory": f"{number} {subcategory}", "labels": {"item": label}}
