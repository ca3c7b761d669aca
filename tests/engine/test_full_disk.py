"""A full disk: a clear message naming the path, the command ends, the journal stays whole.

Runs on a small tmpfs, which needs root to mount; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from sessions.engine import Session
from sessions.journal import Journal, read_journal
from tests.conftest import FAKE_FILE, FIXTURE_TASKS
from tui.cli import main

PAGE = 4096  # tmpfs hands out whole pages: a write that needs no new page still fits


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; this test runs as an ordinary user")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"could not mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk) -> None:
    """Take every free page of the disk."""
    with open(disk / "filler", "ab", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                fh.write(b"\0" * 512)
        except OSError:
            pass


def free(disk) -> None:
    (disk / "filler").unlink()


def pad_journal_to_a_page(session: Session, record) -> None:
    """Notes that end the journal exactly on a page boundary: the next append needs a new page."""
    path = session.dir / "journal.jsonl"
    while True:
        size = path.stat().st_size
        record(session, "note", text="x")
        overhead = path.stat().st_size - size - 1  # the line of a note minus its text
        gap = (-path.stat().st_size) % PAGE
        if gap > overhead + 20:
            record(session, "note", text="x" * (gap - overhead))
            if path.stat().st_size % PAGE == 0:
                return


@pytest.fixture
def cli(small_disk, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "6")

    def run(*args):
        code = main(["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(small_disk / "sessions"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_session_new_on_a_full_disk_keeps_nothing_and_says_so(cli, small_disk):
    (small_disk / "sessions" / "fake-task").mkdir(parents=True)
    fill(small_disk)
    code, _, err = cli("session", "new", "--task", "fake-task")
    assert code == 2 and "the disk is full" in err and "Traceback" not in err
    assert list((small_disk / "sessions" / "fake-task").iterdir()) == []


def test_an_edit_on_a_full_disk_records_nothing_and_says_so(cli, small_disk, tmp_path):
    code, out, _ = cli("session", "new", "--task", "fake-task", "--json")
    sid = json.loads(out)["session"]
    session_dir = small_disk / "sessions" / "fake-task" / sid
    entries_before = len(read_journal(session_dir / "journal.jsonl")[0])
    content = tmp_path / "region.py"
    content.write_text("SCORE = 1.0\n" + "# padding\n" * 3000)
    fill(small_disk)
    code, _, err = cli("session", "edit", "--session", sid, "--file", FAKE_FILE, "--start", "14", "--end", "16",
                       "--content-file", str(content))
    assert code == 2 and "the disk is full" in err and "journal.jsonl" in err and "Traceback" not in err
    entries, _, size, warning = read_journal(session_dir / "journal.jsonl")
    assert len(entries) == entries_before and warning is None  # no partial line kept
    free(small_disk)
    code, out, _ = cli("session", "edit", "--session", sid, "--file", FAKE_FILE, "--start", "14", "--end", "16",
                       "--content-file", str(content))
    assert code == 0 and "Replaced lines 14..16" in out


def test_a_disk_that_fills_during_a_test_ends_the_command_with_the_path(cli, small_disk, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    code, out, _ = cli("session", "new", "--task", "fake-task", "--json")
    sid = json.loads(out)["session"]
    session_dir = small_disk / "sessions" / "fake-task" / sid
    journaled = Session.record

    def record_then_fill(self, type_, **data):
        journaled(self, type_, **data)
        if type_ == "setting_started" and data["label"] == "alpha":
            pad_journal_to_a_page(self, journaled)
            fill(small_disk)

    monkeypatch.setattr(Session, "record", record_then_fill)
    code, _, err = cli("session", "test", "--session", sid)
    # the journal, or a file written after it (a freed temporary can hand the journal a page)
    assert code == 2 and "the disk is full" in err and f"could not write {session_dir}" in err
    assert "session wait" in err and "Traceback" not in err
    entries, _, _, warning = read_journal(session_dir / "journal.jsonl")
    assert warning is None and [e.type for e in entries].count("test_started") == 1

    monkeypatch.setattr(Session, "record", journaled)
    free(small_disk)
    code, out, err = cli("session", "wait", "--session", sid)
    assert code == 0 and "[Test #1] (2 tests remaining" in out
    journal = Journal(session_dir / "journal.jsonl", writable=False)
    assert journal.entries[-1].type == "run_finished"


def test_a_read_only_sessions_folder_still_shows_status_and_refuses_writes_with_a_message(cli, small_disk, tmp_path):
    code, out, _ = cli("session", "new", "--task", "fake-task", "--json")
    sid = json.loads(out)["session"]
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code, out, err = cli("session", "status", "--session", sid)
    assert code == 0 and "tests: 3 of 3 left" in out
    content = tmp_path / "region.py"
    content.write_text("SCORE = 1.0\n")
    code, _, err = cli("session", "edit", "--session", sid, "--file", FAKE_FILE, "--start", "14", "--end", "16",
                       "--content-file", str(content))
    assert code == 2 and "is not writable" in err and "Traceback" not in err
    code, _, err = cli("session", "new", "--task", "fake-task")
    assert code == 2 and "is not writable" in err and "Traceback" not in err
