"""Two clones, one virtual environment: the jobs of a clone run that clone's gfm_limits, not the
editable install of the other (gfm_limits/checkout.py)."""

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from gfm_limits.checkout import check_own_package, imported_from, own_package_first
from gfm_limits.layout import MEMBER_RECORD
from gfm_limits.provenance import PACKAGE_FOLDER, write_provenance

from conftest import ROOT, tiny_workflow


def git(cwd, *args) -> list[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.splitlines()


def clone_of_this_checkout(target: Path) -> Path:
    """A git clone of this checkout, with its uncommitted and untracked (not ignored) files too."""
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(target)], check=True)
    for name in git(ROOT, "diff", "--name-only", "HEAD") + git(ROOT, "ls-files", "--others", "--exclude-standard"):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
        else:
            (target / name).unlink(missing_ok=True)
    return target


def shared_venv(root: Path, editable: Path) -> Path:
    """A virtual environment whose site-packages reach this interpreter's packages and hold an
    editable install of gfm_limits from `editable` (another clone's scripts/), as pip -e writes it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    packages = root / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (packages / "zz_shared.pth").write_text("".join(p + "\n" for p in site.getsitepackages()))
    (packages / "__editable__.gfm_limits-0.1.0.pth").write_text(f"{editable}\n")
    return root / "bin" / "python"


@pytest.mark.integration
def test_the_jobs_of_a_second_clone_import_its_own_package(tmp_path):
    clone_b = clone_of_this_checkout(tmp_path / "clone_b")
    clone_a = tmp_path / "clone_a"
    shutil.copytree(clone_b / "scripts", clone_a / "scripts")
    python = shared_venv(tmp_path / "venv", clone_a / "scripts")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # what the venv gives a job without the Snakefile's help: clone A's copy, even after Snakemake's
    # preamble appended clone B's scripts/ to sys.path
    scripts_b = str(clone_b / "scripts")
    probe = f"import sys; sys.path.extend([{scripts_b!r}]); import gfm_limits; print(gfm_limits.__file__)"
    found = subprocess.run([python, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(found.stdout.strip()).parent == clone_a / "scripts" / "gfm_limits"

    config = tiny_workflow(tmp_path / "wf")
    result = subprocess.run([python, "-m", "snakemake", "-s", str(clone_b / "Snakefile"), "-d", str(tmp_path / "wf"),
                             "--cores", "2", "results/models/dna_kmer/seed1", "--configfile", str(config)],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    record = json.loads((tmp_path / "wf/results/models/dna_kmer/seed1" / MEMBER_RECORD).read_text())
    assert record["packages"][PACKAGE_FOLDER] == str((clone_b / "scripts" / "gfm_limits").resolve())


def test_pythonpath_gets_the_workflow_scripts_first_once(tmp_path):
    environ = {"PYTHONPATH": os.pathsep.join(["/elsewhere/scripts", str(tmp_path), "relative"])}
    own_package_first(tmp_path, environ)
    own_package_first(tmp_path, environ)  # a SLURM job step parses the Snakefile again
    assert environ["PYTHONPATH"].split(os.pathsep) == [str(tmp_path.resolve()), "/elsewhere/scripts", "relative"]
    empty = {}
    own_package_first(tmp_path, empty)
    assert empty == {"PYTHONPATH": str(tmp_path.resolve())}


def test_provenance_records_the_package_folder_and_stops_on_another_copy(tmp_path):
    rows = write_provenance(config={}, sources=[], models=[], root=ROOT, tsv_out=tmp_path / "p.tsv",
                            config_out=tmp_path / "p.json")
    own = (ROOT / "scripts" / "gfm_limits").resolve()
    assert ("this job", PACKAGE_FOLDER, str(own)) in rows and imported_from() == check_own_package(ROOT) == own
    with pytest.raises(RuntimeError, match=f"imported gfm_limits from {own}, not from the workflow's own"):
        write_provenance(config={}, sources=[], models=[], root=tmp_path, tsv_out=tmp_path / "q.tsv",
                         config_out=tmp_path / "q.json")
    assert not (tmp_path / "q.tsv").exists()
