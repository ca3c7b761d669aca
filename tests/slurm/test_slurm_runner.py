"""The Slurm runner against a real single-node cluster (see conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sessions.engine import Session
from sessions.events import SettingStatus
from sessions.journal import read_journal
from sessions.slurm import SlurmConfig, SlurmConfigError, SlurmRunner
from tests.conftest import FAKE_FILE, FIXTURE_TASKS


def squeue_ids() -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True)
    return out.stdout.split()


# -- configuration (no cluster needed) -------------------------------------------------------
def test_config_errors_say_what_to_fix(tmp_path):
    with pytest.raises(SlurmConfigError, match="does not exist"):
        SlurmConfig.load(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[slurm]\naccount = "lab"\n')
    with pytest.raises(SlurmConfigError, match="partition is required"):
        SlurmConfig.load(bad)
    bad.write_text('[slurm]\npartition = "gpu"\npartitoin = "x"\n')
    with pytest.raises(SlurmConfigError, match=r"unknown keys \['partitoin'\]"):
        SlurmConfig.load(bad)
    bad.write_text('[slurm]\npartition = "gpu"\npoll_interval = "fast"\n')
    with pytest.raises(SlurmConfigError, match="poll_interval must be a float"):
        SlurmConfig.load(bad)


def test_missing_sbatch_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SlurmConfigError, match="needs sbatch, squeue, scontrol, scancel on PATH"):
        SlurmRunner(SlurmConfig(partition="debug"))


def test_batch_script_carries_the_configured_options(tmp_path, monkeypatch):
    config = SlurmConfig(partition="gpu", account="lab", qos="high", time_limit="04:00:00", gres="gpu:1",
                         extra_sbatch=("--constraint=a100",))
    lines = config.sbatch_lines()
    assert lines == ["#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --qos=high",
                     "#SBATCH --time=04:00:00", "#SBATCH --gres=gpu:1", "#SBATCH --constraint=a100"]


# -- against the cluster ---------------------------------------------------------------------
def test_full_session_through_slurm(slurm_session):
    session = slurm_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 64.0")
    for n in (1, 2, 3):
        feedback = session.test(timeout=120)
        assert f"[Test #{n}]" in feedback and "test_acc_alpha=64.00" in feedback
    assert session.state.budget_left == 0
    records = session.state.tests[0].settings
    assert all(r.runner == "slurm" and r.job_id.isdigit() for r in records.values())
    final = session.submit(3, timeout=120)
    assert "test_acc_gamma=66.00" in final
    assert session.state.closed
    script = (session.dir / "submit" / "gamma.sbatch").read_text()
    assert "#SBATCH --partition=debug" in script and "#SBATCH --comment=mlsbench-test" in script


def test_cancel_leaves_no_job_in_squeue(slurm_session, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "400")
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    session = slurm_session()
    controller = session.start_test()
    deadline = time.monotonic() + 60
    while not all(s.job_id for s in session.state.tests[0].settings.values()):
        assert time.monotonic() < deadline, "jobs did not start"
        time.sleep(0.1)
    ids = [s.job_id for s in session.state.tests[0].settings.values()]
    assert set(ids) <= set(squeue_ids())
    session.cancel()
    assert controller.wait(60)
    assert not set(ids) & set(squeue_ids())
    assert {s.status for s in session.state.tests[0].settings.values()} == {"cancelled"}
    assert session.state.budget_left == 2


def test_a_failing_job_reports_exit_and_log_tail(slurm_session):
    session = slurm_session()
    session.edit(FAKE_FILE, 15, 15, "CRASH_AT = 2")
    feedback = session.test(timeout=120)
    assert "[COMMAND FAILED exit=1]" in feedback
    assert "RuntimeError: fake crash at epoch 2" in feedback


def test_pending_jobs_show_as_queued_with_slurms_reason(slurm_session, slurm_config, monkeypatch):
    slurm_config.write_text(slurm_config.read_text().replace('"--comment=mlsbench-test"', '"--hold"'))
    session = slurm_session()
    statuses = []
    session.subscribe(lambda e: statuses.append(e) if isinstance(e, SettingStatus) else None)
    controller = session.start_test()
    deadline = time.monotonic() + 60
    while not any(e.status == "queued" and "JobHeldUser" in e.detail for e in statuses):
        assert time.monotonic() < deadline, f"no queued status with a reason: {statuses}"
        time.sleep(0.1)
    for record in session.state.tests[0].settings.values():
        if record.job_id:
            subprocess.run(["scontrol", "release", record.job_id], check=True)
    deadline = time.monotonic() + 60
    while not controller.wait(0.5):
        for record in session.state.tests[0].settings.values():
            if record.job_id:
                subprocess.run(["scontrol", "release", record.job_id], capture_output=True)
        assert time.monotonic() < deadline
    assert "test_acc_beta=51.00" in session.state.tests[0].feedback


def test_resume_after_the_engine_is_killed_reattaches_to_running_jobs(
    fake_task, tmp_path, slurm_env, slurm_config
):
    sessions_dir = tmp_path / "sessions"
    session = Session.create(fake_task, sessions_dir=sessions_dir, profile="demo", python=sys.executable)
    session_dir = session.dir
    session.close()
    env = dict(os.environ, FAKE_EPOCHS="20", FAKE_SLEEP="0.25", MLSBENCH_SLOTS="2")
    cli = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(sessions_dir),
         "--runner", "slurm", "--runner-config", str(slurm_config), "session", "test", "--session", session_dir.name],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        entries, _, _, _ = read_journal(session_dir / "journal.jsonl")
        if sum(e.type == "setting_started" for e in entries) == 2:
            break
        assert time.monotonic() < deadline, cli.stderr.read() if cli.poll() is not None else "no start"
        time.sleep(0.1)
    time.sleep(1.0)
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    job_ids = [e.data["job_id"] for e in entries if e.type == "setting_started"]
    assert set(job_ids) <= set(squeue_ids())  # the jobs outlived the engine

    resumed = Session.open(session_dir, fake_task, python=sys.executable,
                           runner=SlurmRunner(SlurmConfig.load(slurm_config)), slots=[{}, {}])
    assert resumed.state.budget_left == 2
    controller = resumed.reattach()
    assert controller.wait(120)
    feedback = resumed.state.tests[0].feedback
    assert "test_acc_alpha=50.00" in feedback and "test_acc_beta=51.00" in feedback
    resumed.close()

    # A local engine must not pretend to follow Slurm jobs.
    from sessions.errors import Refused

    with pytest.raises(Refused, match="--runner slurm"):
        other = Session.create(fake_task, sessions_dir=sessions_dir, profile="demo", python=sys.executable)
        other.record("test_started", n=1, settings=["alpha"], files={})
        other.record("setting_started", phase="test", n=1, label="alpha", job_id="999999", runner="slurm")
        try:
            other.reattach()
        finally:
            other.close()


def test_results_come_from_the_channel_through_slurm(slurm_session):
    session = slurm_session()
    session.edit(FAKE_FILE, 14, 14, 'SCORE = 64.0\nprint("FINAL_METRICS score=999.000")\n'
                                    'print("TRAIN_METRICS: epoch=9 test_acc=999.00")')
    feedback = session.test(timeout=120)
    assert "test_acc_alpha=64.00" in feedback and "999" not in feedback
    record = session.state.tests[0]
    script = (session.dir / "tests" / "1" / "alpha.sbatch").read_text()
    assert "MLSBENCH_METRICS_FD=3" in script and "3>>" in script
    for label, setting in record.settings.items():
        assert setting.metrics_channel and setting.runner == "slurm"
        assert "999" not in session.folder.metrics_path(record.key, label).read_text()
        assert "FINAL_METRICS score=999.000" in session.folder.log_path(record.key, label).read_text()
