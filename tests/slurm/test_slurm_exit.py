"""The Slurm runner takes a job's exit status only from its own wrapper (issue 14, item 16).

The exit file counts once Slurm says the batch script has ended; it must name
the job that wrote it and agree with the exit code Slurm recorded. Anything
else is reported lost, saying why.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from sessions.runner import Launch, read_exit_file
from sessions.slurm import SlurmConfig, SlurmRunner, slurm_exit_status
from tests.conftest import FAKE_FILE


def test_slurm_exit_codes_read_as_a_shell_reports_them():
    assert slurm_exit_status("0:0") == 0
    assert slurm_exit_status("3:0") == 3
    assert slurm_exit_status("0:9") == 137
    assert slurm_exit_status("") is None and slurm_exit_status("n/a") is None


def test_a_slurm_exit_file_is_read_by_the_engine_as_its_status(tmp_path):
    path = tmp_path / "alpha.exit"
    path.write_text("3 4711\n")
    assert read_exit_file(path) == 3


def _finished_job(tmp_path: Path, config: Path, command: str) -> tuple[str, Launch]:
    """A real job run through the runner's own batch script, waited for without asking the runner."""
    launch = Launch("alpha", command, tmp_path, tmp_path / "alpha.log", tmp_path / "alpha.exit", dict(os.environ))
    job_id = SlurmRunner(SlurmConfig.load(config)).start(launch)
    deadline = time.monotonic() + 60
    while subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True).stdout.strip():
        assert time.monotonic() < deadline, "the job did not end"
        time.sleep(0.1)
    return job_id, launch


def _state(config: Path, job_id: str, launch: Launch):
    return SlurmRunner(SlurmConfig.load(config)).state(job_id, launch)  # a fresh runner: nothing cached


def test_the_exit_file_must_be_the_jobs_own_and_agree_with_slurm(tmp_path, slurm_env, slurm_config, monkeypatch):
    job_id, launch = _finished_job(tmp_path, slurm_config, "echo working; exit 3")
    assert launch.exit_path.read_text().split() == ["3", job_id]
    state = _state(slurm_config, job_id, launch)
    assert (state.status, state.exit_code) == ("failed", 3)

    monkeypatch.setattr("sessions.slurm.EXIT_FILE_GRACE", 0.0)  # no wait for a file on its way (below)
    launch.exit_path.write_text(f"0 {job_id}\n")  # rewritten after the job ended
    state = _state(slurm_config, job_id, launch)
    assert state.status == "lost"
    assert f"says exit 0 but Slurm recorded exit 3 for job {job_id}" in state.detail

    launch.exit_path.write_text("3 999999\n")  # another job's file
    state = _state(slurm_config, job_id, launch)
    assert state.status == "lost" and "written by job 999999, not by job " + job_id in state.detail

    launch.exit_path.write_text("0\n")  # no job named: not the wrapper's
    assert "is not what the wrapper writes" in _state(slurm_config, job_id, launch).detail

    monkeypatch.setattr("sessions.slurm.EXIT_FILE_GRACE", 0.5)
    launch.exit_path.unlink()
    runner = SlurmRunner(SlurmConfig.load(slurm_config))
    assert runner.state(job_id, launch).status == "running"  # the file may still be on its way (NFS)
    time.sleep(0.6)
    runner._cache.clear()
    state = runner.state(job_id, launch)
    assert state.status == "lost"
    assert f"job {job_id} ended (Slurm: FAILED, exit 3) but" in state.detail and "alpha.exit is missing" in state.detail


def test_a_job_slurm_has_forgotten_is_judged_by_its_exit_file_alone(tmp_path, slurm_env, slurm_config):
    forgotten = "987654"
    launch = Launch("alpha", "true", tmp_path, tmp_path / "alpha.log", tmp_path / "alpha.exit", dict(os.environ))
    state = _state(slurm_config, forgotten, launch)
    assert state.status == "lost" and f"Slurm no longer knows job {forgotten}" in state.detail
    launch.exit_path.write_text(f"0 {forgotten}\n")
    assert _state(slurm_config, forgotten, launch).status == "done"
    launch.exit_path.write_text("0 123\n")
    state = _state(slurm_config, forgotten, launch)
    assert state.status == "lost" and "written by job 123" in state.detail


def test_a_stale_exit_file_is_removed_when_the_job_starts(tmp_path, slurm_env, slurm_config):
    (tmp_path / "alpha.exit").write_text("0 1\n")
    job_id, launch = _finished_job(tmp_path, slurm_config, "exit 5")
    assert launch.exit_path.read_text().split() == ["5", job_id]


def test_an_exit_file_forged_by_the_training_code_changes_nothing(slurm_session, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "0.3")
    session = slurm_session()
    region = (
        "SCORE = 50.0\nCRASH_AT = 4\nNOISE = 0.0\n"
        "import os, pathlib, subprocess\n"
        "if pathlib.Path.cwd().name == 'run':\n"
        "    job = os.environ['SLURM_JOB_ID']\n"
        "    [pathlib.Path('..', f'{label}.exit').write_text('0\\n') for label in ('alpha', 'beta')]\n"
        "    late = f'sleep 2; echo \"0 {job}\" > ../alpha.exit; echo \"0 {job}\" > ../beta.exit'\n"
        "    pathlib.Path('..', 'late').open('a').write(f'{subprocess.Popen([\"sh\", \"-c\", late]).pid}\\n')\n"
    )
    session.edit(FAKE_FILE, 14, 16, region)
    feedback = session.test(timeout=120)
    settings = session.state.tests[0].settings
    assert {label: (r.status, r.exit_code) for label, r in settings.items()} == {
        "alpha": ("failed", 1), "beta": ("failed", 1)}
    assert "RuntimeError: fake crash at epoch 4" in feedback  # it trained until its real end
    test_dir = session.dir / "tests" / "1"
    time.sleep(2.5)  # past the moment the leftover would have rewritten the files
    for label in ("alpha", "beta"):
        assert (test_dir / f"{label}.exit").read_text().split() == ["1", settings[label].job_id]
    for pid in map(int, (test_dir / "late").read_text().split()):
        alive = Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]
        assert not alive, "the wrapper left the training code's background process running"

