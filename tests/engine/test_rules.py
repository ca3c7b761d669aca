"""Rules that hold and nothing lost: what a fault-injection run broke (issue 14), on the fake task."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.engine import Session
from sessions.errors import Refused
from sessions.leaderboard import local_rows
from sessions.preflight import Preflight
from sessions.ranges import EditRefused
from sessions.runner import Launch, LocalRunner
from sessions.store import list_sessions
from tasks import load_task
from tests.conftest import FAKE_FILE, FIXTURE_TASKS
from tests.engine.test_resume import journal_types, leave_running

HELPER = "fake/helper.py"


@pytest.fixture
def helper_task(tmp_path):
    """The fake task plus a fixed helper file (no editable lines), as real tasks have."""
    folder = tmp_path / "tasks" / "fake-task"
    shutil.copytree(FIXTURE_TASKS / "fake-task", folder)
    (folder / "helper.py").write_text("VALUE = 1\n")
    toml = folder / "task.toml"
    toml.write_text(toml.read_text().replace(
        "[[settings]]", '[[files]]\npath = "fake/helper.py"\nsource = "helper.py"\n\n[[settings]]', 1))
    return load_task(folder)


def open_again(session: Session, **options) -> Session:
    return Session.open(session.dir, session.task, python=sys.executable, slots=[{}], **options)


# -- 1: relative folders -------------------------------------------------------------------
def test_a_relative_sessions_dir_and_data_root_lose_nothing(fake_task, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = Session.create(fake_task, sessions_dir=Path("sessions"), data_root=Path("data"),
                             profile="demo", python=sys.executable, slots=[{}])
    try:
        assert "test_acc_alpha=50.00" in session.test(timeout=60)
        record = session.state.tests[0]
        assert {s.status for s in record.settings.values()} == {"done"}
        assert "TRAIN_METRICS" in (tmp_path / "sessions" / "fake-task" / session.id / "tests" / "1" / "alpha.log").read_text()
        assert session.meta["data_root"] == str(tmp_path / "data")
    finally:
        session.close()


# -- 2: a cut journal ------------------------------------------------------------------------
def test_a_cut_journal_stops_the_session_and_keeps_every_test_folder(new_session):
    session = new_session()
    session.test(timeout=60)
    session.test(timeout=60)
    session.close()
    journal = session.dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    second = next(i for i, line in enumerate(lines) if b'"test_started"' in line and b'"n": 2' in line)
    journal.write_bytes(b"".join(lines[:second]))  # as if the last test never happened
    before = sorted(p.name for p in (session.dir / "tests" / "2").iterdir())

    with pytest.raises(Refused, match=r"tests/2 exists but the journal records 1 test.*Nothing was changed"):
        open_again(session)
    assert sorted(p.name for p in (session.dir / "tests" / "2").iterdir()) == before
    [summary] = list_sessions(session.dir.parent.parent)
    assert summary.status == "unreadable" and "shorter than the test folders" in summary.problem


def test_a_start_that_died_before_it_was_journaled_is_kept_aside_not_deleted(new_session):
    session = new_session()
    leftover = session.dir / "tests" / "1" / "run"
    leftover.mkdir(parents=True)  # what older versions left when killed mid-start
    (leftover / "marker").write_text("kept")
    session.close()
    resumed = open_again(session)
    try:
        assert "[Test #1]" in resumed.test(timeout=60)
        [kept] = (session.dir / "tests").glob(".unjournaled-1-*")
        assert (kept / "run" / "marker").read_text() == "kept"
    finally:
        resumed.close()


# -- 3: a copied session ---------------------------------------------------------------------
def test_a_copied_session_is_refused_for_writing_and_counted_once(new_session):
    session = new_session()
    session.test(timeout=60)
    session.submit(1, timeout=60)
    session.close()
    copy = session.dir.with_name("0-copy")  # listed before the original
    shutil.copytree(session.dir, copy)

    with pytest.raises(Refused, match=f"is a copy of session {session.id}"):
        Session.open(copy, session.task, python=sys.executable, slots=[{}])
    summaries = {s.id: s for s in list_sessions(session.dir.parent.parent)}
    assert summaries[copy.name].copy_of == session.id and not summaries[copy.name].is_open
    assert summaries[copy.name].identity == summaries[session.id].identity != ""
    rows = local_rows(session.task, session.dir.parent.parent, "demo")
    assert len(rows) == 1 and session.id in rows[0].detail
    assert Session.view(copy, session.task).state.closed  # still readable


def test_an_open_copy_does_not_list_as_open_even_under_the_same_name_elsewhere(new_session, tmp_path):
    session = new_session()
    session.close()
    shutil.copytree(session.dir, session.dir.with_name(session.id + "x"))
    assert [s.id for s in list_sessions(session.dir.parent.parent) if s.is_open] == [session.id]
    elsewhere = tmp_path / "other-sessions" / "fake-task" / session.id
    shutil.copytree(session.dir, elsewhere)
    with pytest.raises(Refused, match="is a copy of session"):
        Session.open(elsewhere, session.task)


def test_a_moved_session_is_still_the_session(new_session, tmp_path):
    session = new_session()
    session.close()
    moved = tmp_path / "moved" / "fake-task" / session.id
    moved.parent.mkdir(parents=True)
    session.dir.rename(moved)
    resumed = Session.open(moved, session.task, python=sys.executable, slots=[{}])
    try:
        assert "test_acc_alpha=50.00" in resumed.test(timeout=60)
    finally:
        resumed.close()


# -- 4: the lock -----------------------------------------------------------------------------
def test_deleting_the_lock_file_lets_no_second_writer_in(new_session):
    session = new_session()
    for leftover in session.dir.glob("lock*"):
        leftover.unlink()
    with pytest.raises(Refused, match="open in another mlsbench-tui process"):
        open_again(session)
    view = Session.view(session.dir, session.task)  # reading needs no lock
    assert view.state.budget_left == 3
    with pytest.raises(Refused, match="only to read"):
        view.edit(FAKE_FILE, 14, 14, "SCORE = 1.0")


def test_the_lock_goes_with_the_process(new_session):
    session = new_session()
    session.close()
    open_again(session).close()  # no stale lock left behind


# -- 5: snapshots ----------------------------------------------------------------------------
def helper_session(helper_task, tmp_path) -> Session:
    return Session.create(helper_task, sessions_dir=tmp_path / "sessions", profile="demo",
                          python=sys.executable, slots=[{}])


def test_a_fixed_file_changed_after_its_test_cannot_be_submitted(helper_task, tmp_path):
    session = helper_session(helper_task, tmp_path)
    try:
        session.test(timeout=60)
        snapshot = session.dir / "tests" / "1" / "run" / HELPER
        assert snapshot.stat().st_mode & 0o222 == 0  # snapshots are read-only
        snapshot.chmod(0o644)
        snapshot.write_text("VALUE = 99\n")
        with pytest.raises(Refused, match=r"fake/helper.py was modified.*cannot be submitted"):
            session.submit(1)
        assert session.state.submission is None and not (session.dir / "submit").exists()
    finally:
        session.close()


def test_a_snapshot_changed_during_the_preflight_spends_nothing(helper_task, tmp_path, monkeypatch):
    session = helper_session(helper_task, tmp_path)
    checked = Preflight.run

    def tampering_preflight(self, run_dir, settings):
        target = run_dir / HELPER
        target.chmod(0o644)
        target.write_text("VALUE = 2\n")
        return checked(self, run_dir, settings)

    monkeypatch.setattr(Preflight, "run", tampering_preflight)
    try:
        with pytest.raises(Refused, match=r"(?s)nothing spent.*snapshot changed during the preflight: fake/helper.py"):
            session.start_test()
        assert session.state.budget_left == 3 and not (session.dir / "tests" / "1").exists()
    finally:
        session.close()


def test_a_setting_whose_snapshot_changed_meanwhile_does_not_run(helper_task, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "1")
    session = helper_session(helper_task, tmp_path)
    snapshot = session.dir / "tests" / "1" / "run" / HELPER

    def tamper_after_alpha(event):
        if getattr(event, "label", None) == "alpha" and getattr(event, "status", None) == "done":
            snapshot.chmod(0o644)
            snapshot.write_text("VALUE = 3\n")

    session.subscribe(tamper_after_alpha)
    try:
        session.test(timeout=60)
        beta = session.state.tests[0].settings["beta"]
        assert beta.status == "failed" and "fake/helper.py was modified" in beta.detail
        assert beta.job_id is None  # never started
    finally:
        session.close()


# -- 6: a closed session ---------------------------------------------------------------------
def test_nothing_changes_once_a_submission_has_started(new_session, monkeypatch):
    session = new_session()
    session.test(timeout=60)
    monkeypatch.setenv("FAKE_SLEEP", "0.5")
    monkeypatch.setenv("FAKE_SLOW_LABEL", "gamma")
    controller = session.start_submit(1)
    for attempt in (lambda: session.edit(FAKE_FILE, 14, 14, "SCORE = 99.0"),
                    lambda: session.replace_text(FAKE_FILE, session.disk_text(FAKE_FILE) + "# x\n"),
                    session.undo, session.sync_from_disk, session.start_test):
        with pytest.raises(Refused, match="read-only: test #1 is being submitted"):
            attempt()
    assert controller.wait(60)
    with pytest.raises(Refused, match="is closed"):
        session.sync_from_disk()
    assert session.state.edits == 0


# -- 7: re-attach and slots ------------------------------------------------------------------
def test_reattach_honours_the_slots(new_session, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "8")
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    session = new_session()
    leave_running(session)
    session.close()
    resumed = open_again(session)
    try:
        assert resumed.reattach().wait(60)
        alpha, beta = (resumed.state.tests[0].settings[k] for k in ("alpha", "beta"))
        assert alpha.status == beta.status == "done"
        assert beta.started_at >= alpha.ended_at  # one slot: beta waited for alpha
    finally:
        resumed.close()


# -- 8: a reused process id ------------------------------------------------------------------
def test_a_process_that_reuses_a_job_pid_is_neither_followed_nor_signalled(tmp_path):
    stranger = subprocess.Popen(["sleep", "30"], start_new_session=True)
    launch = Launch("alpha", "true", tmp_path, tmp_path / "alpha.log", tmp_path / "alpha.exit", dict(os.environ))
    runner = LocalRunner()
    try:
        state = runner.state(str(stranger.pid), launch)  # a journaled job id, after a reboot
        assert state.status == "lost"
        runner.cancel(str(stranger.pid))
        assert stranger.poll() is None  # untouched
    finally:
        stranger.kill()
        stranger.wait()


def test_a_job_started_here_is_known_by_its_token(tmp_path):
    launch = Launch("alpha", "sleep 2", tmp_path, tmp_path / "alpha.log", tmp_path / "alpha.exit", dict(os.environ))
    runner = LocalRunner(nice=0)
    job = runner.start(launch)
    environ = Path(f"/proc/{job}/environ")
    for _ in range(100):  # until the wrapper has been exec'd
        if environ.read_bytes():
            break
        time.sleep(0.02)
    assert f"MLSBENCH_JOB={launch.exit_path}".encode() in environ.read_bytes()
    follower = LocalRunner()  # another engine, after a restart
    assert follower.state(job, launch).status == "running"
    follower.cancel(job)
    assert runner.state(job, launch).status != "running"


# -- 10: the seed ----------------------------------------------------------------------------
def test_a_seed_out_of_range_is_refused(fake_task, tmp_path):
    with pytest.raises(Refused, match="seed 99999999999999999999999 is out of range: .* 0 to 4294967295"):
        Session.create(fake_task, sessions_dir=tmp_path, profile="demo", seed=99999999999999999999999)
    assert not (tmp_path / "fake-task").exists() or not any((tmp_path / "fake-task").iterdir())


# -- 12, 13, 20: what an edit may hold -----------------------------------------------------------
def test_crlf_content_is_normalised_and_later_edits_still_work(new_session):
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 61.0\r\nEXTRA = 1\r\n")
    assert "\r" not in (session.workspace / FAKE_FILE).read_bytes().decode()
    session.edit(FAKE_FILE, 15, 15, "EXTRA = 2\r")
    session.undo()
    assert "test_acc_alpha=61.00" in session.test(timeout=60)


def test_a_nul_byte_is_refused_with_its_line(new_session):
    session = new_session()
    with pytest.raises(EditRefused, match=r"contains a NUL byte \(line 2 of the new text\)"):
        session.edit(FAKE_FILE, 14, 14, "SCORE = 1.0\nX = '\0'\n")
    assert session.state.edits == 0


def test_an_edit_above_the_size_limit_is_refused_saying_why(new_session):
    session = new_session()
    with pytest.raises(EditRefused, match=r"at most 1024 KiB, because every edit is kept in the journal"):
        session.edit(FAKE_FILE, 14, 14, "# " + "x" * (2 * 1024 * 1024) + "\n")
    assert session.state.edits == 0 and (session.dir / "journal.jsonl").stat().st_size < 100_000


def test_submitting_a_test_whose_folder_was_removed_says_so(new_session):
    session = new_session()
    session.test(timeout=60)
    shutil.rmtree(session.dir / "tests" / "1" / "run")
    with pytest.raises(Refused, match=r"test #1's snapshot changed .* fake/fake_driver.py is missing"):
        session.submit(1)


# -- 16, 19: the exit status and what training leaves behind ----------------------------------------
def test_a_fake_exit_file_does_not_end_a_setting_and_leftover_processes_are_killed(new_session, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    session = new_session()
    region = (
        "SCORE = 50.0\nCRASH_AT = None\nNOISE = 0.0\n"
        "import pathlib, subprocess\n"
        "if pathlib.Path.cwd().name == 'run':\n"
        "    [pathlib.Path('..', f'{label}.exit').write_text('0\\n') for label in ('alpha', 'beta')]\n"
        "    pathlib.Path('..', 'orphans').open('a').write(f'{subprocess.Popen([\"sleep\", \"30\"]).pid}\\n')\n"
    )
    session.edit(FAKE_FILE, 14, 16, region)
    feedback = session.test(timeout=30)
    assert session.state.tests[0].finished, "the run did not end: a leftover process kept it going"
    assert "test_acc_alpha=50.00" in feedback and "test_acc_beta=51.00" in feedback
    orphans = [int(p) for p in (session.dir / "tests" / "1" / "orphans").read_text().split()]
    assert len(orphans) == 2
    for pid in orphans:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]


# -- 18: the journal ahead of the workspace -------------------------------------------------------
def test_a_workspace_behind_the_journal_is_brought_up_to_it_on_open(new_session):
    session = new_session()
    before = session.disk_text(FAKE_FILE)
    session.edit(FAKE_FILE, 14, 14, "SCORE = 70.0")
    (session.workspace / FAKE_FILE).write_text(before)  # as if killed between the two writes
    session.close()
    resumed = open_again(session)
    try:
        assert "SCORE = 70.0" in resumed.disk_text(FAKE_FILE)
        assert any("workspace was behind the journal" in e.data.get("text", "") for e in resumed.journal.entries)
        resumed.edit(FAKE_FILE, 15, 15, "CRASH_AT = None")  # not refused as "changed outside"
        assert resumed.sync_from_disk() == []
    finally:
        resumed.close()


def test_a_change_by_another_editor_is_not_mistaken_for_a_journal_ahead(new_session):
    session = new_session()
    path = session.workspace / FAKE_FILE
    path.write_text(path.read_text().replace("SCORE = 50.0", "SCORE = 52.0"))
    session.close()
    resumed = open_again(session)
    try:
        assert "SCORE = 52.0" in resumed.disk_text(FAKE_FILE)  # left for sync to record
    finally:
        resumed.close()


# -- 21: sync and a torn run_finished -----------------------------------------------------------
def test_sync_refuses_when_a_fixed_file_differs(helper_task, tmp_path):
    session = helper_session(helper_task, tmp_path)
    try:
        (session.workspace / HELPER).write_text("VALUE = 5\n")
        with pytest.raises(Refused, match="fake/helper.py is a fixed file and differs from the scaffold"):
            session.sync_from_disk()
    finally:
        session.close()


def test_a_test_whose_end_was_not_recorded_points_to_session_wait(new_session):
    session = new_session()
    session.test(timeout=60)
    session.close()
    journal = session.dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])  # run_finished torn
    resumed = open_again(session)
    try:
        with pytest.raises(Refused, match=r"test #1 has ended but its result was not recorded.*session wait"):
            resumed.start_test()
        assert resumed.reattach().wait(30)
        assert ("run_finished", None) in journal_types(session.dir)
    finally:
        resumed.close()
