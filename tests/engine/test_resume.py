"""Kill -9 of the engine process mid-test, then resume: nothing recorded is lost."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from sessions.engine import Session
from sessions.errors import Refused
from sessions.journal import read_journal
from tasks import load_task
from tests.conftest import FAKE_FILE, FIXTURE_TASKS


def journal_types(session_dir):
    entries, _, _, _ = read_journal(session_dir / "journal.jsonl")
    return [(e.type, e.data.get("label")) for e in entries]


def test_kill_minus_nine_mid_test_then_resume(fake_task, tmp_path):
    sessions_dir = tmp_path / "sessions"
    session = Session.create(fake_task, sessions_dir=sessions_dir, profile="demo", python=sys.executable)
    session_dir = session.dir
    session.close()

    env = dict(os.environ, FAKE_EPOCHS="12", FAKE_SLEEP="0.25", FAKE_SLOW_LABEL="beta", MLSBENCH_SLOTS="1")
    cli = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(sessions_dir),
         "session", "test", "--session", session_dir.name],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        types = journal_types(session_dir)
        if ("setting_finished", "alpha") in types and ("setting_started", "beta") in types:
            break
        time.sleep(0.05)
    else:
        cli.kill()
        raise AssertionError(f"the test did not get going: {cli.stderr.read()}")
    time.sleep(0.5)  # beta is now mid-run
    cli.send_signal(signal.SIGKILL)
    cli.wait()

    env_before = dict(os.environ)
    os.environ.update(FAKE_EPOCHS="12", FAKE_SLEEP="0.25", FAKE_SLOW_LABEL="beta")
    try:
        resumed = Session.open(session_dir, fake_task, python=sys.executable, slots=[{}])
        assert resumed.state.budget_left == 2  # spent once, not refunded, not doubled
        test = resumed.state.tests[0]
        assert test.settings["alpha"].status == "done"
        assert test.settings["alpha"].results == {"test_acc_alpha": "50.00"}
        assert test.settings["beta"].status == "running"
        assert (session_dir / "tests" / "1" / "alpha.log").read_text().count("TRAIN_METRICS") == 12
        # the training process survived the engine and is re-attached
        controller = resumed.reattach()
        assert controller is not None and controller.wait(60)
        feedback = resumed.state.tests[0].feedback
        assert "test_acc_alpha=50.00" in feedback and "test_acc_beta=51.00" in feedback
        assert resumed.state.tests[0].settings["beta"].exit_code == 0
        resumed.close()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    # and the journal still verifies end to end
    types = journal_types(session_dir)
    assert types.count(("test_started", None)) == 1 and ("run_finished", None) in types


def leave_running(session) -> None:
    """Start a test and stop following it once alpha runs, as "leave it running" does."""
    controller = session.start_test()
    while not session.state.tests[0].settings["alpha"].job_id:
        time.sleep(0.02)
    controller.detach()


def test_a_job_that_vanished_is_reported_lost(new_session, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "100")
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    session = new_session()
    leave_running(session)  # as if the app went away, then the job is killed behind its back
    pgid = int(session.state.tests[0].settings["alpha"].job_id)
    os.killpg(pgid, signal.SIGKILL)
    session.close()
    resumed = Session.open(session.dir, session.task, python=sys.executable, slots=[{}])
    monkeypatch.setenv("FAKE_EPOCHS", "2")
    monkeypatch.setenv("FAKE_SLEEP", "0")
    resumed.reattach().wait(30)
    record = resumed.state.tests[0]
    assert record.settings["alpha"].status == "lost"
    assert "[LOST]" in record.feedback
    assert record.settings["beta"].status == "done"  # queued settings still run
    assert resumed.state.budget_left == 2
    resumed.close()


def test_a_second_process_cannot_open_the_same_session(new_session):
    from sessions.errors import Refused

    session = new_session()
    try:
        Session.open(session.dir, session.task)
    except Refused as exc:
        assert "open in another mlsbench-tui process" in str(exc)
    else:
        raise AssertionError("opened twice")


def run_cli_until(sessions_dir, tasks_dir, args, env, ready, what):
    """Start the CLI with args, wait until ready() holds, then kill -9 it."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--tasks-dir", str(tasks_dir), "--sessions-dir", str(sessions_dir), *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ready():
        if cli.poll() is not None:
            raise AssertionError(f"the CLI ended before {what}: {cli.stderr.read()}")
        time.sleep(0.05)
    else:
        if not ready():
            cli.kill()
            raise AssertionError(f"{what} did not happen: {cli.stderr.read()}")
    cli.send_signal(signal.SIGKILL)
    cli.wait()


def processes_with(needle: bytes) -> list[int]:
    """Live processes whose environment holds needle."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = open(f"/proc/{entry}/environ", "rb").read()
                state = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if needle in environ and state != "Z":
                found.append(int(entry))
    return found


def test_kill_minus_nine_during_the_preflight_then_the_next_start_ends_its_checks(tmp_path):
    folder = tmp_path / "tasks" / "fake-task"
    shutil.copytree(FIXTURE_TASKS / "fake-task", folder)
    driver = folder / "fake_driver.py"  # a check that takes a while, as real ones do (8-14 s)
    driver.write_text(driver.read_text().replace(
        "    if args.check:\n", "    if args.check:\n        time.sleep(float(os.environ.get('FAKE_CHECK_SLEEP', '0')))\n"))
    task = load_task(folder)
    sessions_dir = tmp_path / "sessions"
    session = Session.create(task, sessions_dir=sessions_dir, profile="demo", python=sys.executable)
    session.close()
    needle = f"MLSBENCH_JOB=preflight {session.dir}".encode()

    env = dict(os.environ, FAKE_CHECK_SLEEP="60", MLSBENCH_SLOTS="2", FAKE_EPOCHS="2")
    run_cli_until(sessions_dir, folder.parent, ["session", "test", "--session", session.id], env,
                  lambda: len(processes_with(needle)) >= 2, "the preflight checks")
    assert processes_with(needle), "the checks outlive the killed CLI until the next start"

    resumed = Session.open(session.dir, task, python=sys.executable, slots=[{}])
    try:
        deadline = time.monotonic() + 10
        while processes_with(needle) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_with(needle) == []
        assert resumed.state.budget_left == 3 and resumed.state.tests == []
        os.environ["FAKE_EPOCHS"] = "2"
        assert "[Test #1]" in resumed.test(timeout=60)
    finally:
        os.environ.pop("FAKE_EPOCHS", None)
        resumed.close()


def test_kill_minus_nine_during_submit_then_resume_finishes_it(fake_task, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "2")
    sessions_dir = tmp_path / "sessions"
    session = Session.create(fake_task, sessions_dir=sessions_dir, profile="demo", python=sys.executable, slots=[{}])
    session.test(timeout=60)
    session.close()

    env = dict(os.environ, FAKE_EPOCHS="12", FAKE_SLEEP="0.25", FAKE_SLOW_LABEL="gamma")
    run_cli_until(sessions_dir, FIXTURE_TASKS, ["session", "submit", "--session", session.id, "--n", "1"], env,
                  lambda: ("setting_started", "gamma") in journal_types(session.dir), "the hidden setting's start")

    resumed = Session.open(session.dir, fake_task, python=sys.executable, slots=[{}])
    try:
        assert resumed.state.submission is not None and not resumed.state.closed
        with pytest.raises(Refused, match="being submitted"):
            resumed.edit(FAKE_FILE, 14, 14, "SCORE = 1.0")
        assert resumed.reattach().wait(60)
        assert resumed.state.closed and resumed.final_results()["test_acc_gamma"] == "52.00"
        assert resumed.state.budget_left == 2
    finally:
        resumed.close()
    types = journal_types(session.dir)
    assert types.count(("submit_started", None)) == 1 and types[-1] == ("run_finished", None)


def test_a_results_file_the_disk_had_no_room_for_is_written_by_the_next_start(new_session):
    session = new_session()
    session.test()
    results = session.dir / "tests" / "1" / "results.json"
    written = results.read_text()
    results.unlink()  # as when the disk filled between the journal line and this file
    session.close()
    resumed = Session.open(session.dir, session.task, python=sys.executable, slots=[{}])
    assert results.read_text() == written
    assert resumed.reattach() is None  # it finished: nothing to follow, nothing run again
    assert resumed.state.budget_left == 2
    resumed.close()


def test_a_check_killed_before_its_group_was_listed_is_found_by_its_token(new_session):
    """kill -9 in the instant between starting a check and listing its group: the next
    start still finds it (its environment carries the preflight's token) and ends it."""
    session = new_session()
    token = f"preflight {session.folder.root}"
    check = subprocess.Popen(["sleep", "60"], env=dict(os.environ, MLSBENCH_JOB=token), start_new_session=True)
    try:
        assert not session.folder.preflight_groups.exists()
        session._preflight().end_leftovers()
        assert check.wait(10) == -signal.SIGKILL
    finally:
        check.kill()
        check.wait()
