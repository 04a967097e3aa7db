"""The Python code passes ruff with the rule set in pyproject.toml ([tool.ruff])."""

import importlib.util
import subprocess
import sys

import pytest

from conftest import ROOT

PATHS = ["scripts", "tests", "bench", "docs"]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed; it comes with the test extra: pip install -e '.[test]'")
def test_ruff_finds_nothing():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format=concise", *PATHS]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ruff check {' '.join(PATHS)}:\n{result.stdout}{result.stderr}"
