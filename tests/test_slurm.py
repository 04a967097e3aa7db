"""The tiny workflow through a real one-node SLURM cluster (tests/localslurm.py).

Runs `snakemake --profile profiles/slurm` (with tests/slurm_profile layered on
top for the local partition) and checks with sacct that every job of this
run, found by the run's name, ran as a SLURM job, that train and extract got
their GPU, and that the statistics equal those of the local run of the same
config. A failing job must be reported with its SLURM log.
"""

from __future__ import annotations

import datetime
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from gfm_limits.layout import TABLES

from conftest import CONDITIONS, ROOT, SNAKEMAKE, job_counts, tiny_workflow
from localslurm import LocalSlurm

pytestmark = pytest.mark.slurm
TIMEOUT = 1200


@pytest.fixture(scope="module")
def cluster():
    with LocalSlurm() as slurm:
        yield slurm


def slurm_snakemake(cluster, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = ["timeout", "-k", "30", str(TIMEOUT), *SNAKEMAKE, "-d", str(workdir),
               "--profile", str(ROOT / "profiles" / "slurm"),
               "--workflow-profile", str(ROOT / "tests" / "slurm_profile"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=cluster.env, timeout=TIMEOUT + 60)


def sacct_jobs(cluster, run_id: str, since: str) -> pd.DataFrame:
    fields = ["JobID", "JobName", "Comment", "AllocTRES", "State"]
    out = subprocess.run(["sacct", "-X", "-n", "-P", "--name", run_id, "-S", since, "-o", ",".join(fields)],
                         capture_output=True, text=True, env=cluster.env, timeout=60, check=True).stdout
    return pd.DataFrame([line.split("|") for line in out.strip().splitlines()], columns=fields)


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    config = tiny_workflow(root)
    since = (datetime.datetime.now() - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    planned = job_counts(subprocess.run([*SNAKEMAKE, "-d", str(root), "-n", "--cores", "1", "--configfile",
                                         str(config)], capture_output=True, text=True, timeout=300).stdout)
    result = slurm_snakemake(cluster, root, "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    run_id = re.search(r"SLURM run ID: (\S+)", result.stdout + result.stderr).group(1)
    return root, planned, sacct_jobs(cluster, run_id, since)


def test_every_job_ran_as_a_slurm_job_of_this_run(slurm_run):
    _, planned, jobs = slurm_run
    assert (jobs["State"] == "COMPLETED").all(), jobs
    ran = jobs["Comment"].str.extract(r"^rule_([a-z_]+?)(?:_wildcards_|$)")[0].value_counts().to_dict()
    assert ran == {rule: n for rule, n in planned.items() if rule != "all"}


def test_train_extract_and_dynamics_got_a_gpu(slurm_run):
    _, _, jobs = slurm_run
    rule = jobs["Comment"].str.extract(r"^rule_([a-z_]+?)(?:_wildcards_|$)")[0]
    gpu = jobs["AllocTRES"].str.contains("gres/gpu=1")
    on_gpu = rule.isin(["train", "extract", "dynamics"])  # the rules that run the models
    assert on_gpu.sum() and gpu[on_gpu].all()
    assert not gpu[~on_gpu].any()


def test_results_equal_the_local_run(slurm_run, run):
    slurm_root, _, _ = slurm_run
    local_root, _ = run
    tables = sorted((local_root / "results" / "stats").rglob("*.tsv"))
    # summary, findings and dynamics, and every condition's tables and dynamics
    assert len(tables) == 3 + len(CONDITIONS) * (len(TABLES) + 1)
    for table in tables:
        other = slurm_root / table.relative_to(local_root)
        pd.testing.assert_frame_equal(pd.read_csv(table, sep="\t"), pd.read_csv(other, sep="\t"), rtol=1e-6)


def test_a_failed_job_is_reported_with_its_slurm_log(cluster, tmp_path):
    config = tiny_workflow(tmp_path)
    bad = tmp_path / "data" / "bad.jsonl"
    bad.write_bytes(b'{"text": "caf\xe9"}\n')
    text = config.read_text().replace(str(tmp_path / "data" / "text.jsonl.gz"), str(bad))
    config.write_text(text)
    result = slurm_snakemake(cluster, tmp_path, "results/corpus/text/train.txt", "--retries", "0",
                             "--configfile", str(config))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert re.search(r"\.snakemake/slurm_logs/rule_corpus/\S*\.log", output), output[-3000:]
    assert "line 1 is not valid UTF-8" in output
