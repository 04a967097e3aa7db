"""Names of the per-condition statistics tables and of the figures.

Kept free of heavy imports: the Snakefile reads them to declare outputs.
"""

TABLES = ("outputs", "js", "pairs", "topk", "fisher", "sorted_probs")
FIGURES = ("output_distribution", "js_top_p", "fisher_shares", "embedding_consistency", "training_curves")
