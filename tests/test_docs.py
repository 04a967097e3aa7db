"""The documentation stays in sync with the schema and names only files the repository holds."""

import ast
import fnmatch
import posixpath
import re
import subprocess

import pytest
import yaml

from gfm_limits.config import schema_table

from conftest import ROOT

SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())


def test_config_readme_lists_every_key_as_the_schema_does():
    table = schema_table(SCHEMA)
    assert table in (ROOT / "config" / "README.md").read_text(), (
        "config/README.md is out of date; regenerate its table with "
        "python -c 'import sys, yaml; sys.path.insert(0, \"scripts\"); "
        "from gfm_limits.config import schema_table; "
        "print(schema_table(yaml.safe_load(open(\"config/schema.yaml\"))), end=\"\")'"
    )


# A repository path: one of the top-level folders, then a path; not part of a longer path
# (`GFMs/scripts/...` names the paper's repository, `../shared/...` is outside this one) and
# not under results/, which the pipeline writes. {name} and <name> are placeholders.
FOLDERS = ("docs", "config", "scripts", "rules", "bench", "resources", "tests", "envs", "profiles", "report")
PATH = re.compile(rf"(?<![\w./~-])(?:{'|'.join(FOLDERS)})/[\w./*{{}}<>-]*[\w*}}>/]")
LINK = re.compile(r"\]\(([^()\s#]+)[^()\s]*\)")  # a markdown link's target, anchor dropped
SECTION = re.compile(r"(docs/[\w/.-]+\.md)(?:, | \()([A-Z][\w-]*(?: [\w-]+)*)")  # "docs/x.md, Setup"


def tracked() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(listed.splitlines())


def written() -> set[str]:
    """Paths inside the repository's folders that a run writes: the fetch lock file."""
    return {SCHEMA["properties"]["fetch"]["properties"]["lock_file"]["default"]}


def documents() -> dict[str, str]:
    """The README, docs/ (recursively), config/README.md and the package's docstrings."""
    texts = {name: (ROOT / name).read_text() for name in ["README.md", "config/README.md"]}
    texts |= {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "docs").rglob("*.md"))}
    for module in sorted((ROOT / "scripts" / "gfm_limits").glob("*.py")):
        nodes = ast.walk(ast.parse(module.read_text()))
        docstrings = [ast.get_docstring(n) for n in nodes
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        texts[str(module.relative_to(ROOT))] = "\n".join(d for d in docstrings if d)
    return texts


def references(name: str, text: str) -> set[str]:
    """Repository paths a document names, its markdown links resolved from its own folder."""
    found = {ref.rstrip("/") for ref in PATH.findall(text)}
    for target in LINK.findall(text) if name.endswith(".md") else []:
        if re.match(r"\w+:", target):  # https:, mailto:
            continue
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if not resolved.startswith("../"):  # outside the repository
            found.add(resolved)
    return {ref for ref in found if not ref.startswith("results/")}


def exists(ref: str, files: set[str]) -> bool:
    pattern = re.sub(r"\{[^}]*\}|<[^>]*>", "*", ref)
    return any(f == pattern or f.startswith(pattern + "/") or fnmatch.fnmatch(f, pattern)
               or fnmatch.fnmatch(f, pattern + "/*") for f in files)


DOCUMENTS = documents()


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_path_a_document_names_is_in_the_repository(name):
    files, outputs = tracked(), written()
    missing = sorted(ref for ref in references(name, DOCUMENTS[name]) if ref not in outputs and not exists(ref, files))
    assert not missing, f"{name} names paths that git does not track: {missing}"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_no_document_cites_the_private_notes(name):
    """notes/ (the project's working notes) is not in the repository: cite docs/paper-notes.md
    or the paper's code by commit and path instead."""
    cited = re.findall(r"(?<![\w.-])(?:\.\./)*(?:shared/)?notes/[\w./-]+", DOCUMENTS[name])
    assert not cited, f"{name} cites {cited}"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_cited_section_is_a_heading_of_its_document(name):
    for path, section in SECTION.findall(DOCUMENTS[name]):
        cited = ROOT / path
        if not cited.exists():
            continue  # the path test names it
        headings = re.findall(r"^#+ (.+)$", cited.read_text(), re.M)
        assert any(h == section or h.startswith(section + ":") for h in headings), (
            f"{name} cites section {section!r} of {path}, which has none: {headings}")


def test_the_reference_finder_sees_paths_links_and_placeholders():
    """The checks themselves: what they count as a path, what they skip, and what exists."""
    text = ("`rules/*.smk`, envs/{stage}.yaml, scripts/gfm_limits/nope.py, results/stats/summary.tsv,\n"
            "GFMs/src/analyze/data.py, ../shared/notes/paper.md, [gpu](gpu.md), [up](../README.md#top),\n"
            "[web](https://example.org/docs/x.md), [outside](../../elsewhere.md)")
    found = references("docs/a.md", text)
    assert found == {"rules/*.smk", "envs/{stage}.yaml", "scripts/gfm_limits/nope.py", "docs/gpu.md", "README.md"}
    files = tracked()
    assert {ref for ref in found if not exists(ref, files)} == {"scripts/gfm_limits/nope.py"}
    assert SECTION.findall("see docs/paper-notes.md, Empirical Fisher: and docs/pipeline.md (Reliability)") == [
        ("docs/paper-notes.md", "Empirical Fisher"), ("docs/pipeline.md", "Reliability")]


def test_run_outputs_are_ignored_but_bench_records_can_be_committed():
    """/results/ is anchored: the pipeline's results/ is git-ignored, bench/results/ (the
    records the docs cite) is not."""
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0

    assert ignored("results/stats/summary.tsv") and not ignored("bench/results/BENCH.md")
