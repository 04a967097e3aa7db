"""Outputs under hostile conditions: a full disk, an unwritable path, shell-hostile names, Ctrl-C."""

import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, snakemake, tiny_workflow

WRITER = """
import resource, signal, sys
sys.path.insert(0, {scripts!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
from gfm_limits.files import atomic_path
with atomic_path({dest!r}) as tmp, open(tmp, "wb") as out:
    for _ in range(4):
        out.write(b"x" * (1 << 19))
"""


def test_a_full_disk_is_a_clear_error_and_the_earlier_result_survives(tmp_path):
    dest = tmp_path / "results" / "table.tsv"
    dest.parent.mkdir()
    dest.write_text("the earlier result\n")
    code = WRITER.format(scripts=str(ROOT / "scripts"), dest=str(dest))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{dest}: cannot write: the file is larger than this system allows" in result.stderr
    assert dest.read_text() == "the earlier result\n"
    assert [p.name for p in dest.parent.iterdir()] == ["table.tsv"]  # no temporary file left


def test_an_unwritable_results_path_is_a_clear_error(tmp_path):
    from gfm_limits.files import OutputError, atomic_path

    (tmp_path / "results").write_text("a file where a directory should be")
    with pytest.raises(OutputError, match="results/corpus/train.txt: cannot write"):
        with atomic_path(tmp_path / "results" / "corpus" / "train.txt") as tmp:
            tmp.write_text("never")


def test_no_rule_runs_a_shell_and_hostile_paths_pass_through_intact(tmp_path):
    """Every rule runs Python through `script:` (no `shell:` or `run:` that could
    interpolate a config value into a shell), and a source path holding spaces, quotes,
    `$(...)` and `; rm -rf` text is read as a plain path: the canary file survives."""
    for smk in (ROOT / "rules").glob("*.smk"):
        assert not re.search(r"^\s+(shell|run):", smk.read_text(), re.M), smk.name
    config_path = tiny_workflow(tmp_path / "wf")
    config = yaml.safe_load(config_path.read_text())
    canary = tmp_path / "wf" / "canary"  # in the working directory of every job
    canary.write_text("still here")
    hostile = tmp_path / "we'ird \"dir\" $(touch pwned); rm -rf canary #"
    hostile.mkdir()
    for name in ("dna", "text"):
        source = config["sources"][name]["url"]
        target = hostile / (source.rsplit("/", 1)[1])
        target.write_bytes(open(source, "rb").read())
        config["sources"][name]["url"] = str(target)
    config_path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "wf", "--until", "encode", "--configfile", str(config_path), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert canary.read_text() == "still here" and not (tmp_path / "wf" / "pwned").exists()
    assert (tmp_path / "wf" / "results" / "tokens" / "dna_kmer" / "train.npy").stat().st_size > 0


@pytest.mark.integration
def test_ctrl_c_during_training_saves_the_state_and_a_rerun_resumes(tmp_path):
    """Ctrl-C in the terminal (SIGINT to snakemake and its jobs, one process group) while a member
    trains: the member saves its training state at its next log_every step and stops, snakemake
    exits nonzero without the model, and a rerun resumes from the saved step."""
    import json
    import os
    import signal
    import time

    from conftest import SNAKEMAKE

    path = tiny_workflow(tmp_path)
    config = yaml.safe_load(path.read_text())
    config["train"] |= {"tokens": 8 * 32 * 600, "log_every": 5}  # 600 steps
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    target, log = "results/models/dna_kmer/seed1", tmp_path / "results/logs/train/dna_kmer/seed1.log"
    process = subprocess.Popen([*SNAKEMAKE, "-d", str(tmp_path), "--cores", "2", target, "--configfile", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    while not (log.exists() and "step 5/600" in log.read_text()):
        assert process.poll() is None, process.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    output = process.communicate(timeout=300)[0]
    assert process.returncode != 0, output[-3000:]
    text = log.read_text()
    step = int(re.search(r"stopped by SIGINT at step (\d+);", text).group(1))
    assert 0 < step < 600 and f"saved the training state at step {step} " in text and "KeyboardInterrupt" not in text
    assert (tmp_path / "results/state/dna_kmer/seed1.pt").is_file() and not (tmp_path / target).exists()
    result = snakemake(tmp_path, target, "--configfile", str(path))
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((tmp_path / target / "training.json").read_text())
    assert record["resumed_from_step"] == step and record["steps"] == 600
    assert not (tmp_path / "results/state/dna_kmer/seed1.pt").exists()
