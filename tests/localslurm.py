"""A real one-node SLURM cluster on 127.0.0.1 for the tests, with accounting.

Follows shared/notes/local-slurm.md: Debian's slurmctld, slurmd, slurmdbd,
slurm-client, munge and mariadb-server (installed when missing); daemons
started directly (no systemd) in the order munged, mariadbd, slurmdbd,
slurmctld, slurmd; one GPU declared as a GRES with no device behind it
(File=/dev/null), so jobs asking `--gpus=1` are scheduled and accounted
(AllocTRES gres/gpu=1); accounting through slurmdbd and MariaDB so that
`sacct`, the executor plugin's status command, works; job steps are sampled every second
(JobAcctGatherFrequency), so that even a job of a few seconds has its MaxRSS, which the
plugin's efficiency report reads (with the default 30 s a shorter step has none).

The node is in two partitions named as profiles/slurm names them, `cpu` (the default)
and `gpu`, so that the profile runs here as shipped, and has the feature `FEATURE`
for a constraint (sbatch -C). It declares at least `CPUS` CPUs whatever the machine has
(SlurmdParameters=config_overrides): the profile's largest request (train's 4 CPUs per
GPU) with room beside it for the CPU jobs, which would otherwise queue behind every GPU
job. The jobs then share the real cores, which only slows each of them.

The configuration goes to /etc/slurm, SLURM's default place: the executor
plugin's job step drops SLURM_* variables (SLURM_CONF included) before it
calls srun inside a job, so only the default path is found there. A foreign
slurm.conf already in /etc/slurm is never overwritten. State, logs and pid
files live under STATE, a fixed directory, so a cluster left up by an
earlier run on the same machine is found and reused; one whose daemons died
is restarted. `LocalSlurm` stops, by PID, only the daemons it started itself, and
cancels only the jobs left in the working directories registered in `workdirs`: another
test session on the machine may share the cluster. (Two sessions whose configurations
differ restart each other's daemons, which ends the other's jobs: run one at a time.)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

STATE = Path("/var/tmp/gfm-slurm")
CONF_DIR = Path("/etc/slurm")
MARKER = "# written by gfm-limits tests/localslurm.py\n"
PACKAGES = ["slurmctld", "slurmd", "slurm-client", "slurmdbd", "munge", "mariadb-server"]
BINARIES = ["slurmctld", "slurmd", "slurmdbd", "sbatch", "sacct", "munged", "mariadbd"]
DB_USER, DB_PASS = "slurm", "gfm-limits-test"
CPU_PARTITION, GPU_PARTITION = "cpu", "gpu"
FEATURE = "gfmgpu"
CPUS = 8


class SlurmSetupError(RuntimeError):
    """The test cluster could not be installed or started; the message says which step."""


def run(cmd: list[str], timeout: float = 60, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise SlurmSetupError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result


def ensure_packages() -> None:
    """Install Debian's SLURM, munge and MariaDB packages when any binary is missing."""
    if all(shutil.which(b) for b in BINARIES):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], timeout=600, env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], timeout=900, env=env)


def mem_total_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise SlurmSetupError("no MemTotal in /proc/meminfo")


def slurm_conf(node: str) -> str:
    real_memory = mem_total_mb() - 1200  # at most MemTotal minus ~1 GB, or the node drains
    cpus = max(CPUS, os.cpu_count())
    return MARKER + f"""ClusterName=gfmtest
SlurmctldHost={node}(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={STATE}/ctld
SlurmdSpoolDir={STATE}/slurmd
SlurmctldPidFile={STATE}/run/slurmctld.pid
SlurmdPidFile={STATE}/run/slurmd.pid
SlurmctldLogFile={STATE}/log/slurmctld.log
SlurmdLogFile={STATE}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=300
SlurmdParameters=config_overrides
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={real_memory} Gres=gpu:1 Features={FEATURE} State=UNKNOWN
PartitionName={CPU_PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
PartitionName={GPU_PARTITION} Nodes={node} MaxTime=INFINITE State=UP
"""


def slurmdbd_conf() -> str:
    return MARKER + f"""AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile={STATE}/run/slurmdbd.pid
LogFile={STATE}/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser={DB_USER}
StoragePass={DB_PASS}
StorageLoc=slurm_acct_db
"""


def pid_alive(pid_file: Path) -> int | None:
    """The PID in pid_file when that process is alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError, PermissionError):
        return None
    return pid


def wait_for(what: str, check, timeout: float = 60, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise SlurmSetupError(f"timed out after {timeout:.0f} s waiting for {what}")


class LocalSlurm:
    """Context manager: a running one-node cluster; `env` for clients."""

    def __init__(self) -> None:
        self.node = socket.gethostname().split(".")[0]
        self.conf = CONF_DIR / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.started: list[Path] = []  # pid files of the daemons this instance started
        self.workdirs: list[Path] = []  # the tests' working directories, whose jobs __exit__ cancels

    # -- daemons: (name, pid file, start command) in start order
    def daemons(self) -> list[tuple[str, Path, list[str]]]:
        run_dir = STATE / "run"
        return [
            ("munged", Path("/run/munge/munged.pid"), ["runuser", "-u", "munge", "--", "/usr/sbin/munged"]),
            ("mariadbd", Path("/run/mysqld/mariadbd.pid"), ["/usr/sbin/mariadbd", "--user=mysql",
                                                            "--pid-file=/run/mysqld/mariadbd.pid",
                                                            "--socket=/run/mysqld/mysqld.sock"]),
            ("slurmdbd", run_dir / "slurmdbd.pid", ["/usr/sbin/slurmdbd"]),
            ("slurmctld", run_dir / "slurmctld.pid", ["/usr/sbin/slurmctld", "-f", str(self.conf)]),
            ("slurmd", run_dir / "slurmd.pid", ["/usr/sbin/slurmd", "-f", str(self.conf)]),
        ]

    def __enter__(self) -> LocalSlurm:
        ensure_packages()
        fingerprint = self.write_config()
        stamp = STATE / "run" / "config.sha256"
        if stamp.exists() and stamp.read_text() == fingerprint and self.answers():
            return self  # a cluster from an earlier run, with this configuration: reuse, leave it up
        self.stop_leftovers()
        stamp.write_text(fingerprint)
        for name, pid_file, cmd in self.daemons():
            if pid_alive(pid_file):
                continue
            self.start(name, pid_file, cmd)
        wait_for("the node to become idle", self.answers, timeout=90)
        return self

    def __exit__(self, *exc) -> None:
        self.cancel_jobs()
        for pid_file in reversed(self.started):
            if pid := pid_alive(pid_file):
                os.kill(pid, signal.SIGTERM)
                wait_for(f"PID {pid} to exit", lambda p=pid_file: pid_alive(p) is None, timeout=30)

    def cancel_jobs(self) -> None:
        """Cancel the jobs still queued or running in `workdirs`, and no others."""
        listed = run(["squeue", "-h", "-o", "%i %Z"], env=self.env, check=False, timeout=20)
        lines = (line.split(maxsplit=1) for line in listed.stdout.splitlines())
        ours = [job for job, workdir in lines if any(Path(workdir).is_relative_to(w) for w in self.workdirs)]
        if ours:
            run(["scancel", *ours], env=self.env, check=False)

    def write_config(self) -> str:
        """Write slurm.conf, gres.conf and slurmdbd.conf; return their sha256 (the cluster's fingerprint)."""
        if self.conf.exists() and not self.conf.read_text().startswith(MARKER):
            raise SlurmSetupError(f"{self.conf} exists and was not written by these tests; not overwriting it")
        for sub, owner in [("run", "slurm"), ("log", "slurm"), ("ctld", "slurm"), ("slurmd", "root")]:
            path = STATE / sub
            path.mkdir(parents=True, exist_ok=True)
            shutil.chown(path, owner, owner)
        CONF_DIR.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(slurm_conf(self.node))
        (CONF_DIR / "gres.conf").write_text(MARKER + f"AutoDetect=off\nNodeName={self.node} Name=gpu File=/dev/null\n")
        dbd = CONF_DIR / "slurmdbd.conf"
        dbd.write_text(slurmdbd_conf())
        shutil.chown(dbd, "slurm", "slurm")
        dbd.chmod(0o600)
        digest = hashlib.sha256()
        for name in ("slurm.conf", "gres.conf", "slurmdbd.conf"):
            digest.update((CONF_DIR / name).read_bytes())
        for run_dir, owner in [("/run/munge", "munge"), ("/run/mysqld", "mysql")]:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            shutil.chown(run_dir, owner, owner)
        return digest.hexdigest()

    def answers(self) -> bool:
        """Whether slurmctld answers for this config with the node idle and sacct working."""
        sinfo = run(["sinfo", "-h", "-N", "-o", "%T"], env=self.env, check=False, timeout=20)
        states = set(sinfo.stdout.split())  # one line per partition of the node
        if sinfo.returncode != 0 or not states or not states <= {"idle", "mixed", "allocated"}:
            return False
        return run(["sacct", "-n", "-X", "-S", "now"], env=self.env, check=False, timeout=20).returncode == 0

    def stop_leftovers(self) -> None:
        """Stop SLURM daemons of an earlier run that no longer answer (munge and MariaDB stay)."""
        for name, pid_file, _ in reversed(self.daemons()):
            if name.startswith("slurm") and (pid := pid_alive(pid_file)):
                os.kill(pid, signal.SIGTERM)
                wait_for(f"leftover {name} to exit", lambda p=pid_file: pid_alive(p) is None, timeout=30)

    def start(self, name: str, pid_file: Path, cmd: list[str]) -> None:
        if name == "mariadbd":
            subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(STATE / "log" / "mariadbd.log", "ab"),
                             start_new_session=True)
            wait_for("MariaDB's socket", lambda: run(["mariadb-admin", "ping"], check=False).returncode == 0)
            self.grant_slurm()
        else:
            run(cmd, env=self.env, timeout=60)  # these daemonise and write their pid file
        wait_for(f"{name}'s pid file", lambda: pid_alive(pid_file) is not None, timeout=30)
        if name == "slurmdbd":
            wait_for("slurmdbd to accept connections",
                     lambda: run(["sacctmgr", "-n", "list", "cluster"], env=self.env, check=False).returncode == 0)
        self.started.append(pid_file)

    @staticmethod
    def grant_slurm() -> None:
        sql = (f"CREATE USER IF NOT EXISTS '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASS}'; "
               f"GRANT ALL ON slurm_acct_db.* TO '{DB_USER}'@'localhost'; FLUSH PRIVILEGES;")
        run(["mariadb", "-e", sql])
