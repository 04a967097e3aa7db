"""Which copy of gfm_limits a job runs: the workflow's own, `scripts/gfm_limits` of its checkout.

Snakemake runs a `script:` job as a new Python that appends the workflow's folders to sys.path,
after site-packages. Where two clones share one virtual environment, the editable install of
one (an `__editable__` .pth in site-packages pointing at clone A's scripts/) comes first, and
the jobs of clone B would run clone A's code while provenance.tsv records clone B's commit.
So the Snakefile puts its own scripts/ first on PYTHONPATH (`own_package_first`), which every
job inherits, locally and through SLURM alike, and which precedes site-packages. (Snakemake
drops PYTHONPATH for jobs in conda environments, where no copy of the package is installed, so
the appended folder is the only one.) Provenance records where each job's package came from
and stops when its own is another copy (`imported_from`, `check_own_package`).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

import gfm_limits


def own_package_first(scripts, environ: MutableMapping[str, str] | None = None) -> None:
    """Put `scripts` (the folder holding gfm_limits/) first on PYTHONPATH, for every process this
    one starts; other entries keep their order, an earlier copy of `scripts` is dropped."""
    environ = os.environ if environ is None else environ
    first = Path(scripts).resolve()
    rest = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != first]
    environ["PYTHONPATH"] = os.pathsep.join([str(first), *rest])


def imported_from() -> Path:
    """The folder this process imported gfm_limits from."""
    return Path(gfm_limits.__file__).resolve().parent


def check_own_package(root) -> Path:
    """imported_from(), or an error unless it is `root`'s scripts/gfm_limits."""
    found, own = imported_from(), (Path(root) / "scripts" / "gfm_limits").resolve()
    if found != own:
        raise RuntimeError(f"this job imported gfm_limits from {found}, not from the workflow's own {own}: "
                           "another copy (an editable install of another clone, or PYTHONPATH) comes first "
                           "on sys.path; run the workflow through its Snakefile, which puts its own first")
    return found
