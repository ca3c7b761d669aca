"""A real single-node Slurm cluster on this machine, for the Slurm runner's tests.

The fixture writes a slurm.conf for the local host into a temporary folder
(state, spool, logs, pid files and the munge socket all live there), starts
munged, slurmctld and slurmd, waits for `sinfo` to show the node idle, and at
the end stops exactly the daemons it started (by their pid files).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.engine import Session
from sessions.slurm import SlurmConfig, SlurmRunner
from tests.conftest import close_all

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _why_not() -> str | None:
    missing = [d for d in DAEMONS if shutil.which(d) is None]
    if missing:
        return f"Slurm is not installed here ({', '.join(missing)} missing; Debian: apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "slurmd needs root to start jobs as the submitting user"
    return None


def _config(root: Path, host: str, cpus: int) -> str:
    return f"""ClusterName=mlsbenchtest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/munge.socket
CredType=cred/munge
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
KillWait=2
NodeName={host} CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    reason = _why_not()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Slurm tests: {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "log", "run", "munge"):
        (root / sub).mkdir()
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    host = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(_config(root, host, os.cpu_count() or 1))
    env = dict(os.environ, SLURM_CONF=str(conf))
    pid_files = [root / "munge" / "munged.pid", root / "run" / "slurmctld.pid", root / "run" / "slurmd.pid"]
    try:
        subprocess.run(
            ["munged", "--force", f"--key-file={key}", f"--socket={root}/munge/munge.socket",
             f"--pid-file={pid_files[0]}", f"--log-file={root}/munge/munged.log",
             f"--seed-file={root}/munge/munged.seed"], check=True, env=env, timeout=30,
        )
        subprocess.run(["slurmctld", "-f", str(conf)], check=True, env=env, timeout=30)
        subprocess.run(["slurmd", "-f", str(conf)], check=True, env=env, timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env)
            if out.stdout.strip() == "idle":
                break
            time.sleep(0.3)
        else:
            logs = "\n".join(p.read_text()[-2000:] for p in (root / "log").glob("*.log"))
            pytest.fail(f"the test cluster did not come up idle:\n{logs}")
        yield {"SLURM_CONF": str(conf), "root": root}
    finally:
        for pid_file in reversed(pid_files):
            _stop(pid_file)


@pytest.fixture
def slurm_env(slurm_cluster, monkeypatch):
    monkeypatch.setenv("SLURM_CONF", slurm_cluster["SLURM_CONF"])
    return slurm_cluster


@pytest.fixture
def slurm_config(tmp_path):
    path = tmp_path / "slurm.toml"
    path.write_text('[slurm]\npartition = "debug"\ntime_limit = "00:10:00"\npoll_interval = 0.3\n'
                    'extra_sbatch = ["--comment=mlsbench-test"]\n')
    return path


@pytest.fixture
def slurm_session(fake_task, tmp_path, slurm_env, slurm_config, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "4")
    opened = []

    def make():
        session = Session.create(
            fake_task, sessions_dir=tmp_path / "sessions", profile="demo", python=sys.executable,
            runner=SlurmRunner(SlurmConfig.load(slurm_config)), slots=[{}, {}],
        )
        opened.append(session)
        return session

    yield make
    close_all(opened)
