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
          "fisher_true", "geometry", "repeats", "repeats_ci")
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
           "confidence", "findings", "frequency_bands", "cka", "baselines", "dynamics", "geometry", "repeats")

# dynamics.tsv, the statistics over training (dynamics.py), in long format; seed_b is empty for
# a member's own statistics. Which statistics: headline.appearing_in("dynamics").
DYNAMICS_COLUMNS = ("step", "tokens", "final", "statistic", "seed_a", "seed_b", "value")
