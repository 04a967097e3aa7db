"""The tiny workflow through a real one-node SLURM cluster (tests/localslurm.py).

Runs `snakemake --profile profiles/slurm` as shipped (tests/slurm_profile layered on top
only for a quicker first status check) and checks with sacct that every job of this run,
found by the run's name, ran as a SLURM job but the local rules, in the CPU or the GPU
partition as the profile says, that train, extract and dynamics got their GPU, that the
efficiency report shows every job within its memory request, and that the statistics equal
those of the local run of the same config. A failing job must be reported with its SLURM
log, and a member stopped by SLURM before its time limit must resume in the retry to the
weights of a run never interrupted.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import yaml

from gfm_limits.layout import MEMBER_RECORD, TABLES

from conftest import CONDITIONS, ROOT, SNAKEMAKE, job_counts, snakemake, tiny_workflow
from localslurm import CPU_PARTITION, FEATURE, GPU_PARTITION, LocalSlurm

pytestmark = pytest.mark.slurm
TIMEOUT = 1800  # the tiny workflow takes about 15 min on the 2-core test machine under load
LOCAL_RULES = {"fetch", "dynamics_table", "summary", "scorecard", "figures", "provenance", "all"}  # localrules, and all
# the rules that run the models: those the profile sends to the GPU partition
GPU_RULES = set(yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())["set-resources"])
RULE = r"^rule_([a-z_]+?)(?:_wildcards_|$)"  # the rule in the plugin's job comment


@pytest.fixture(scope="module")
def cluster():
    with LocalSlurm() as slurm:
        yield slurm


def slurm_snakemake(cluster, workdir: Path, *args: str, profile: Path = ROOT / "profiles" / "slurm",
                    timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    cluster.workdirs.append(workdir)  # its jobs are cancelled at the end, should any be left
    command = ["timeout", "-k", "30", str(timeout), *SNAKEMAKE, "-d", str(workdir), "--profile", str(profile),
               "--workflow-profile", str(ROOT / "tests" / "slurm_profile"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=cluster.env, timeout=timeout + 60)


def run_id_of(result: subprocess.CompletedProcess) -> str:
    return re.search(r"SLURM run ID: (\S+)", result.stdout + result.stderr).group(1)


def since_a_minute_ago() -> str:
    return (datetime.datetime.now() - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")


def sacct_jobs(cluster, run_id: str, since: str) -> pd.DataFrame:
    """This run's jobs in submission order, and their rule (from the plugin's job comment)."""
    fields = ["JobID", "JobName", "Comment", "AllocTRES", "State", "Partition", "Constraints", "Timelimit",
              "ElapsedRaw"]
    out = subprocess.run(["sacct", "-X", "-n", "-P", "--name", run_id, "-S", since, "-o", ",".join(fields)],
                         capture_output=True, text=True, env=cluster.env, timeout=60, check=True).stdout
    jobs = pd.DataFrame([line.split("|") for line in out.strip().splitlines()], columns=fields)
    jobs["rule"] = jobs["Comment"].str.extract(RULE)[0]
    return jobs.sort_values("JobID", key=lambda ids: ids.astype(int), ignore_index=True)


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    config = tiny_workflow(root)
    since = since_a_minute_ago()
    planned = job_counts(subprocess.run([*SNAKEMAKE, "-d", str(root), "-n", "--cores", "1", "--configfile",
                                         str(config)], capture_output=True, text=True, timeout=300).stdout)
    result = slurm_snakemake(cluster, root, "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    run_id = run_id_of(result)
    return root, planned, sacct_jobs(cluster, run_id, since), run_id


def test_every_job_but_the_local_rules_ran_as_a_slurm_job_of_this_run(slurm_run):
    _, planned, jobs, _ = slurm_run
    assert (jobs["State"] == "COMPLETED").all(), jobs
    assert LOCAL_RULES < set(planned)
    assert jobs["rule"].value_counts().to_dict() == {rule: n for rule, n in planned.items() if rule not in LOCAL_RULES}


def test_gpu_jobs_got_a_gpu_in_the_gpu_partition_and_cpu_jobs_the_cpu_partition(slurm_run):
    _, _, jobs, _ = slurm_run
    gpu = jobs["AllocTRES"].str.contains("gres/gpu=1")
    on_gpu = jobs["rule"].isin(GPU_RULES)
    assert on_gpu.sum() and gpu[on_gpu].all()
    assert not gpu[~on_gpu].any()
    assert (jobs["Partition"] == jobs["rule"].isin(GPU_RULES).map({True: GPU_PARTITION, False: CPU_PARTITION})).all()


def test_the_efficiency_report_shows_every_job_within_its_memory_request(slurm_run):
    """The plugin's report (profiles/slurm: slurm-efficiency-report) has the job step of every
    SLURM job of the run, and none used more memory than resources.py (or the profile) asked."""
    root, _, jobs, run_id = slurm_run
    report = pd.read_csv(root / "results" / "slurm" / f"efficiency_report_{run_id}.csv")
    assert sorted(report["MainJobID"].astype(str)) == sorted(jobs["JobID"])
    assert report["RuleName"].str.extract(RULE)[0].value_counts().to_dict() == jobs["rule"].value_counts().to_dict()
    assert (report["MaxRSS_MB"] > 0).all() and (report["MaxRSS_MB"] <= report["RequestedMem_MB"]).all(), report


def test_results_equal_the_local_run(slurm_run, run):
    slurm_root, _, _, _ = slurm_run
    local_root, _ = run
    stats = local_root / "results" / "stats"
    tables = sorted(stats.rglob("*.tsv"))
    # summary, findings, dynamics and the scorecard, every condition's tables and dynamics, and the
    # reverse-complement symmetry of the k-mer condition
    expected = {"summary.tsv", "findings.tsv", "dynamics.tsv", "scorecard.tsv", "dna_kmer/rc_symmetry.tsv",
                *(f"{c}/{t}.tsv" for c in CONDITIONS for t in (*TABLES, "dynamics"))}
    assert {str(t.relative_to(stats)) for t in tables} == expected
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


# Steps of the member: enough that it is still training when the test signals it (8000 take
# about 40 s on a fast 2-core machine, 160 s on the test machine under load)
STEPS = 8000


def stop_early_profile(tmp_path: Path) -> Path:
    """profiles/slurm edited as a user would edit its EDIT HERE block (a constraint for the GPU
    jobs, a flag of their own for every job: an earlier stop signal, 60 s before the limit),
    plus a 5-minute limit for train's first attempt and 10 minutes for the retries."""
    text = (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    edits = {'# constraint: "a100|h100"': f'constraint: "{FEATURE}"',
             "# slurm_extra: \"'--mail-type=FAIL'\"": "slurm_extra: \"'--signal=TERM@60'\"",
             "  train: &gpu\n": '  train: &gpu\n    runtime: "5 if attempt == 1 else 10"\n'}
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "config.yaml").write_text(text)
    return tmp_path / "profile"


def signal_once_training(cluster, workdir: Path, log: Path, timeout: float = 600) -> str:
    """Wait until the member's job in `workdir` has logged a training step, then send its steps
    SIGTERM as SLURM does before a time limit (--signal=TERM@60 signals the job steps, not the
    batch shell; so does scancel --signal). Return the job's id. Signalling at a known point,
    not at a time, keeps the test independent of the machine's speed and load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and re.search(rf"step \d+/{STEPS} loss", log.read_text(errors="replace")):
            listed = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %Z"], capture_output=True,
                                    text=True, env=cluster.env, timeout=20).stdout
            jobs = [job for job, folder in (line.split(maxsplit=1) for line in listed.splitlines())
                    if Path(folder) == workdir]
            if jobs:
                subprocess.run(["scancel", "--signal=TERM", jobs[0]], env=cluster.env, timeout=20, check=True)
                return jobs[0]
        time.sleep(0.5)
    raise AssertionError(f"the member never logged a training step in {timeout} s: {log}")


def test_a_member_stopped_before_its_time_limit_resumes_to_the_weights_of_an_uninterrupted_run(cluster, tmp_path):
    """One member of a condition (8000 steps) trains through SLURM and is sent SIGTERM, as SLURM
    sends it before a time limit, once it is training: it saves its training state and exits, the
    retry (retries: 2, a 10-minute limit where the first attempt had 5) resumes from
    results/state/ and ends with bitwise the weights and snapshots of the same member trained
    locally, never interrupted, and the user's GPU constraint rode along on both attempts."""
    config = yaml.safe_load(tiny_workflow(tmp_path).read_text())
    config["sources"] = {"dna": config["sources"]["dna"]}
    config["conditions"] = {"dna_kmer": config["conditions"]["dna_kmer"]}
    config["train"] |= {"tokens": config["train"]["batch_size"] * config["encode"]["seq_len"] * STEPS,
                        "log_every": 20}
    (tmp_path / "resume.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    args = ["--configfile", str(tmp_path / "resume.yaml")]
    local, slurm = tmp_path / "local", tmp_path / "slurm"
    inputs = ["results/tokens/dna_kmer/train.npy", "results/tokenizers/dna_kmer.json"]
    prepared = snakemake(local, *inputs, *args)
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    shutil.copytree(local, slurm)
    member = "results/models/dna_kmer/seed1"
    with open(tmp_path / "reference.log", "w") as out:  # meanwhile, the uninterrupted run
        reference = subprocess.Popen([*SNAKEMAKE, "-d", str(local), "--cores", "1", member, *args], stdout=out,
                                     stderr=subprocess.STDOUT)
    since = since_a_minute_ago()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(slurm_snakemake, cluster, slurm, member, *args, profile=stop_early_profile(tmp_path),
                              timeout=900)
        signalled = signal_once_training(cluster, slurm, slurm / "results" / "logs" / "train" / "dna_kmer"
                                         / "seed1.log")
        result = running.result()
    assert reference.wait(timeout=900) == 0, (tmp_path / "reference.log").read_text()[-3000:]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    jobs = sacct_jobs(cluster, run_id_of(result), since)
    assert list(jobs["rule"]) == ["train"] * len(jobs) and len(jobs) >= 2, jobs
    first, last = jobs.iloc[0], jobs.iloc[-1]
    # the first attempt stopped itself (exit 1 after saving) before SLURM's limit would have killed it
    assert first["JobID"] == signalled and first["State"] == "FAILED" and first["Timelimit"] == "00:05:00", jobs
    assert int(first["ElapsedRaw"]) < 5 * 60, jobs
    assert last["State"] == "COMPLETED" and last["Timelimit"] == "00:10:00", jobs
    assert (jobs["Partition"] == GPU_PARTITION).all() and (jobs["Constraints"] == FEATURE).all(), jobs

    record = json.loads((slurm / member / MEMBER_RECORD).read_text())
    assert 0 < record["resumed_from_step"] < STEPS == record["steps"]
    assert not (slurm / "results" / "state" / "dna_kmer" / "seed1.pt").exists()
    weights = sorted(p.relative_to(local) for p in (local / "results" / "models").rglob("*.safetensors"))
    assert len(weights) == 1 + 5  # the model and its snapshots
    for path in weights:
        assert (local / path).read_bytes() == (slurm / path).read_bytes(), path
