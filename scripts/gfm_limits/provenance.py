"""What produced a results/ folder: code, configuration, software and data.

`write_provenance` writes results/provenance.tsv (one row per fact: what, name,
value), shown in the report, and results/provenance.config.json (the whole
resolved configuration, defaults filled in). The facts: the git commit of the
workflow and whether its tracked files had uncommitted changes; the sha256 of
the configuration; the Python and package versions each training job recorded
in its training.json (jobs may run in separate conda environments, so each
records its own) and those of this job, with the folder each imported
gfm_limits from (this job stops unless that is the workflow's own, so the commit
recorded is the code that ran: checkout.py); and every fetched file's URL, size
and sha256 from the fetch manifests.
"""

from __future__ import annotations

import csv
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from gfm_limits.checkout import check_own_package, imported_from
from gfm_limits.files import atomic_path
from gfm_limits.layout import MEMBER_RECORD
from gfm_limits.sources import MANIFEST

PACKAGES = ("snakemake", "torch", "transformers", "tokenizers", "numpy", "scipy", "pandas", "pyfaidx", "pyarrow",
            "seaborn", "gfm-limits")


PACKAGE_FOLDER = "gfm_limits imported from"


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed versions of `names` (absent ones left out) and of Python, and the folder this
    process imported gfm_limits from (PACKAGE_FOLDER)."""
    found = {"python": platform.python_version(), PACKAGE_FOLDER: str(imported_from())}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_state(root) -> tuple[str, str]:
    """(commit, 'clean' | 'uncommitted changes'), or ('unknown', 'not a git checkout')."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", "not a git checkout"
    return commit, "uncommitted changes" if status else "clean"


def write_provenance(*, config: dict, sources: list, models: list, root, tsv_out, config_out) -> list[tuple]:
    """Collect the facts and write both files; returns the rows. `sources`: fetched source folders
    (fetch rule outputs, each with its manifest); `models`: member folders (each with its record)."""

    check_own_package(root)
    commit, state = git_state(root)
    resolved = json.dumps(config, indent=2, sort_keys=True, default=str)
    rows = [("code", "git commit", commit), ("code", "working tree", state),
            ("config", "sha256", hashlib.sha256(resolved.encode()).hexdigest())]
    recorded: dict[tuple[str, str], set] = {}
    for folder in models:
        for name, version in json.loads((Path(folder) / MEMBER_RECORD).read_text()).get("packages", {}).items():
            recorded.setdefault(("training", name), set()).add(version)
    rows += [(what, name, ", ".join(sorted(v))) for (what, name), v in sorted(recorded.items())]
    rows += [("this job", name, version) for name, version in package_versions().items()]
    for folder in sources:
        with open(Path(folder) / MANIFEST, newline="") as handle:
            for entry in csv.DictReader(handle, delimiter="\t"):
                rows.append(("data", entry["url"], f"{entry['bytes']} bytes, sha256 {entry['sha256']}"))
    with atomic_path(tsv_out) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("what", "name", "value"))
        writer.writerows(rows)
    with atomic_path(config_out) as tmp:
        tmp.write_text(resolved + "\n")
    return rows
