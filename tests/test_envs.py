"""Every rule's conda env provides every third-party import its script can reach.

Conda channels cannot be reached here, so this is checked statically: for each
rule in rules/*.smk, take its `script:` and its `conda:` env file; collect the
imports of the script and, transitively, of every gfm_limits module it
imports (function-level imports included, since any function may run); map
each third-party top-level module to its conda package; require that package
in the env's dependencies.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

# import name -> conda package name (only where they differ or need a choice)
CONDA_NAME = {"torch": "pytorch", "pynvml": "nvidia-ml-py", "yaml": "pyyaml", "matplotlib": "matplotlib-base",
              "seaborn": "seaborn-base"}
PACKAGE = "gfm_limits"
RULE = re.compile(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", re.M)


def rules() -> dict[str, dict[str, Path]]:
    """rule -> {"script": path, "conda": path}, read from rules/*.smk."""
    found = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for name, body in RULE.findall(smk.read_text()):
            paths = {key: smk.parent / m.group(1) for key in ("script", "conda")
                     if (m := re.search(rf"^\s+{key}:\s*\n\s+\"([^\"]+)\"", body, re.M))}
            found[name] = paths
    return found


def module_imports(path: Path) -> set[str]:
    """Dotted names imported anywhere in a Python file (`from a import b` gives a and a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def third_party_imports(script: Path) -> set[str]:
    """Top-level third-party modules reachable from a script through gfm_limits."""
    seen, todo, external = set(), [script], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in module_imports(path):
            top = name.split(".")[0]
            if top == PACKAGE:
                module = ROOT / "scripts" / Path(*name.split("."))
                todo += [p for p in (module.with_suffix(".py"), module / "__init__.py") if p.exists()]
            elif top not in sys.stdlib_module_names and top != "__future__":
                external.add(top)
    return external


def env_packages(env: Path) -> set[str]:
    deps = yaml.safe_load(env.read_text())["dependencies"]
    return {re.split(r"[ =<>!]", d.strip())[0] for d in deps if isinstance(d, str)}


def missing(script: Path, env: Path) -> set[str]:
    return {CONDA_NAME.get(m, m) for m in third_party_imports(script)} - env_packages(env)


RULES = rules()


def test_every_rule_is_found_with_script_and_env():
    assert {"fetch", "corpus", "tokenizer", "encode", "train", "eval_masks", "extract", "stats", "summary",
            "figures"} <= set(RULES)
    for name, paths in RULES.items():
        if name == "all":
            continue
        assert set(paths) == {"script", "conda"}, f"rule {name} lacks {({'script', 'conda'} - set(paths))}"
        assert paths["script"].exists() and paths["conda"].exists(), name


@pytest.mark.parametrize("rule", [r for r in RULES if r != "all"])
def test_env_provides_every_import(rule):
    paths = RULES[rule]
    assert not missing(paths["script"], paths["conda"]), (
        f"rule {rule}: {paths['conda'].name} lacks {sorted(missing(paths['script'], paths['conda']))}")


def test_light_envs_do_not_pull_torch():
    for env in ("stats", "figures", "corpus", "tokenize", "fetch"):
        assert "pytorch" not in env_packages(ROOT / "envs" / f"{env}.yaml"), env


def test_envs_are_pinned_and_name_their_channels():
    for env in (ROOT / "envs").glob("*.yaml"):
        spec = yaml.safe_load(env.read_text())
        assert spec["channels"][0] == "conda-forge" and "nodefaults" in spec["channels"], env.name
        for dep in spec["dependencies"]:
            assert re.fullmatch(r"[\w.-]+ =[\d.]+", dep), f"{env.name}: {dep!r} is not pinned"


def test_a_new_import_without_its_env_entry_fails(tmp_path):
    """The checker itself: an import reached through gfm_limits but absent from the env is reported."""
    script = tmp_path / "script.py"
    script.write_text("from gfm_limits.stats import summarize\nimport sklearn\n")
    assert missing(script, ROOT / "envs" / "stats.yaml") == {"sklearn"}
    script.write_text("from gfm_limits.train import train_mlm\n")
    assert {"pytorch", "transformers", "tokenizers"} <= missing(script, ROOT / "envs" / "stats.yaml")
