"""The Python code passes ruff with the rule set in pyproject.toml ([tool.ruff]); the Snakefile and
rules pass snakefmt and snakemake --lint; min_version is the Snakemake the tests run."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PATHS = ["scripts", "tests", "bench", "docs"]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed; it comes with the test extra: pip install -e '.[test]'")
def test_ruff_finds_nothing():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format=concise", *PATHS]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ruff check {' '.join(PATHS)}:\n{result.stdout}{result.stderr}"


SNAKEMAKE_FILES = ["Snakefile", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "rules").glob("*.smk"))]


def test_snakefmt_leaves_the_snakefile_and_rules_unchanged():
    snakefmt = Path(sys.executable).parent / "snakefmt"
    if not snakefmt.exists():
        pytest.skip("snakefmt is not installed; it comes with the test extra: pip install -e '.[test]'")
    result = subprocess.run([str(snakefmt), "--check", *SNAKEMAKE_FILES], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(ROOT),
                             "--lint"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_min_version_is_the_installed_snakemake_and_pyprojects_lowest():
    import tomllib
    from importlib.metadata import version

    found = re.search(r'^min_version\("([^"]+)"\)', (ROOT / "Snakefile").read_text(), re.M)
    assert found, "the Snakefile has no min_version(...)"
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    snakemake = next(p for p in pins if re.match(r"snakemake\b(?!-)", p))
    assert found.group(1) == version("snakemake"), "min_version is not the tested (installed) Snakemake"
    assert f">={found.group(1)}," in snakemake.replace(" ", "") + ",", f"pyproject.toml pins {snakemake!r}"
