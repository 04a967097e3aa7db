"""gfm_limits: the computations behind the gfm-limits Snakemake pipeline.

Each module holds one idea (see ../../README.md for the map); nothing is
imported here so that light environments (stats, figures) never pull torch.
"""

__version__ = "0.1.0"
