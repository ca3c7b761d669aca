"""Local jobs: their own process group, a lower CPU priority, and a clear error for a bad setting."""

import os
import sys

import pytest

from sessions.runner import Launch, LocalRunner
from sessions.runners import RunnerConfigError, local_job_nice


def run_job(tmp_path, runner: LocalRunner, code: str) -> str:
    name = f"probe{len(list(tmp_path.glob('*.log')))}"
    launch = Launch(name, f"{sys.executable} -c '{code}'", tmp_path, tmp_path / f"{name}.log",
                    tmp_path / f"{name}.exit", dict(os.environ))
    job = runner.start(launch)
    while runner.state(job, launch).status == "running":
        runner.idle(launch)
    return launch.log_path.read_text().strip()


def test_jobs_run_at_the_asked_niceness_and_in_their_own_group(tmp_path):
    base = os.nice(0)
    out = run_job(tmp_path, LocalRunner(nice=7), "import os; print(os.nice(0), os.getpgid(0) == os.getpid())")
    assert out == f"{min(19, base + 7)} False"  # sh leads the group; python is its child
    assert run_job(tmp_path, LocalRunner(nice=0), "import os; print(os.nice(0))") == str(base)


def test_the_niceness_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("MLSBENCH_JOB_NICE", raising=False)
    assert local_job_nice() == 10
    monkeypatch.setenv("MLSBENCH_JOB_NICE", "0")
    assert local_job_nice() == 0
    for bad in ("-5", "20", "low"):
        monkeypatch.setenv("MLSBENCH_JOB_NICE", bad)
        with pytest.raises(RunnerConfigError, match="from 0 .* to 19"):
            local_job_nice()


def test_a_job_with_a_metrics_channel_gets_its_file_on_the_named_descriptor(tmp_path):
    from sessions.metrics import METRICS_FD_ENV

    channel = tmp_path / "probe.metrics"
    launch = Launch("probe", f"{sys.executable} -c 'import os; fd = int(os.environ[\"{METRICS_FD_ENV}\"]); "
                    "os.write(fd, b\"FINAL_METRICS score=1\\n\"); print(\"FINAL_METRICS score=2\")'",
                    tmp_path, tmp_path / "probe.log", tmp_path / "probe.exit", dict(os.environ), channel)
    runner = LocalRunner(nice=0)
    job = runner.start(launch)
    while runner.state(job, launch).status == "running":
        runner.idle(launch)
    assert channel.read_text() == "FINAL_METRICS score=1\n"  # the channel holds what the driver wrote there
    assert launch.log_path.read_text() == "FINAL_METRICS score=2\n"  # what it printed is in the log only
