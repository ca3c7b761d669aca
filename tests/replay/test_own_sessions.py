"""Replaying our own sessions: real sessions of the fake task, made with the engine."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from sessions.engine import Session
from sessions.journal import read_journal
from sessions.replay import EditStep, SubmitStep, TestStep, TextStep, UndoStep, format_replay, load_replay
from sessions.state import FileState, sha256_text
from tests.conftest import FAKE_FILE


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A whole session: edits (one a whole-file save), undos, a failing test, two good ones, submit."""
    from tasks import Catalog
    from tests.conftest import FIXTURE_TASKS

    task = Catalog([FIXTURE_TASKS]).get("fake-task")
    root = tmp_path_factory.mktemp("own")
    old = os.environ.get("FAKE_EPOCHS")
    os.environ["FAKE_EPOCHS"] = "5"
    s = Session.create(task, sessions_dir=root, profile="demo", data_root=root / "data", python=sys.executable, slots=[{}])
    try:
        s.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\nEXTRA = 1\n")
        s.edit(FAKE_FILE, 17, 17, "NOISE = 0.5\n")
        s.undo()
        s.edit(FAKE_FILE, 16, 16, "CRASH_AT = 2\n")  # the test crashes
        s.test()
        s.undo()
        text = s.disk_text(FAKE_FILE)
        s.replace_text(FAKE_FILE, text.replace("SCORE = 60.0", "SCORE = 70.0"))
        s.test()
        s.edit(FAKE_FILE, 14, 17, "SCORE = 80.0\nCRASH_AT = None\nNOISE = 0.0\n")
        s.test()
        s.submit(3)
    finally:
        s.close()
        if old is None:
            os.environ.pop("FAKE_EPOCHS", None)
        else:
            os.environ["FAKE_EPOCHS"] = old
    return s.dir, task


def journal_entries(directory):
    entries, _, _, _ = read_journal(directory / "journal.jsonl")
    return entries


def test_every_edit_reproduces_the_journals_hash(finished):
    directory, _ = finished
    result = load_replay(directory)
    assert result.skipped == []
    recorded = [e.data["sha256_after"] for e in journal_entries(directory) if e.type == "edit"]
    edits = [s for s in result.replay.steps if isinstance(s, EditStep)]
    assert len(edits) == len(recorded) == 5
    for step, digest in zip(edits, recorded):
        assert step.applied and step.after is not None
        assert sha256_text(step.after.text) == digest == step.sha256_after
        assert step.notes == []


def test_file_contents_at_every_step_follow_from_the_scaffold(finished):
    """Independently of SessionState: the scaffold, each edit's lines, undo as a stack."""
    directory, task = finished
    replay = load_replay(directory).replay
    scaffold = task.file(FAKE_FILE).source.read_text(encoding="utf-8")
    lines, stack = scaffold.split("\n"), []
    current = scaffold
    for step in replay.steps:
        if isinstance(step, EditStep):
            assert step.before.text == current
            new = step.content.split("\n")
            if new[-1] == "":
                new.pop()
            stack.append(current)
            lines = current.split("\n")
            current = "\n".join(lines[: step.start - 1] + new + lines[step.end :])
            assert step.after.text == current
        elif isinstance(step, UndoStep):
            for _ in range(step.count):
                current = stack.pop()
            before, after = step.files[FAKE_FILE]
            assert after.text == current
    # the workspace holds the last state
    assert (directory / "workspace" / FAKE_FILE).read_text(encoding="utf-8") == current


def test_tests_carry_outputs_metrics_status_and_budget(finished):
    directory, _ = finished
    replay = load_replay(directory).replay
    tests = [s for s in replay.steps if isinstance(s, TestStep)]
    assert [t.n for t in tests] == [1, 2, 3]
    assert [t.budget_left for t in tests] == [2, 1, 0]
    assert tests[0].status == "failed"
    assert {s.label: s.status for s in tests[0].settings} == {"alpha": "failed", "beta": "failed"}
    assert "fake crash at epoch 2" in tests[0].settings[0].output
    assert tests[0].settings[0].exit_code not in (None, 0)
    assert tests[1].status == "done"
    assert tests[1].results() == {"test_acc_alpha": "70.00", "test_acc_beta": "71.00"}
    assert "TRAIN_METRICS" in tests[1].settings[0].output
    assert tests[2].results() == {"test_acc_alpha": "80.00", "test_acc_beta": "81.00"}
    # each test's snapshot hash is the file the edits produced at that point
    for t in tests:
        assert t.files and t.notes == []
        assert t.text.startswith(f"[Test #{t.n}]")
        assert t.time and t.ended and t.ended >= t.time


def test_submission_and_final_table(finished):
    directory, _ = finished
    replay = load_replay(directory).replay
    sub = replay.steps[-1]
    assert isinstance(sub, SubmitStep) and sub.n == 3 and sub.status == "done"
    assert [s.label for s in sub.settings] == ["gamma"] and sub.settings[0].hidden
    assert replay.final == {"test_acc_alpha": "80.00", "test_acc_beta": "81.00", "test_acc_gamma": "82.00"}
    assert replay.submitted_test == 3
    assert replay.meta["closed"] is True
    assert replay.task_id == "fake-task" and replay.profile == "demo" and replay.test_budget == 3


def test_the_journal_file_itself_and_the_directory_give_the_same_replay(finished):
    directory, _ = finished
    a = load_replay(directory).replay
    b = load_replay(directory / "journal.jsonl").replay
    assert [s.summary() for s in a.steps] == [s.summary() for s in b.steps]
    assert load_replay(directory).format == "session"


def test_printing_an_own_session(finished):
    directory, _ = finished
    lines = list(format_replay(load_replay(directory).replay))
    text = "\n".join(lines)
    assert "Replay of session" in text and "fake-task" in text
    assert "-SCORE = 50.0" in text and "+SCORE = 60.0" in text  # the first edit's diff
    assert "test #1, failed" in text and "test_acc_alpha=70.00" in text
    assert "Final results (submitted test #3):" in text
    assert text.rstrip().endswith("test_acc_gamma  82.00")
    step_heads = [line for line in lines if line.startswith("#")]
    assert len(step_heads) == len(load_replay(directory).replay.steps)


def test_a_running_session_replays_with_its_test_in_progress(new_session, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "40")
    monkeypatch.setenv("FAKE_SLEEP", "0.05")
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 55.0\n")
    controller = session.start_test()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        e.type == "setting_started" for e in session.journal.entries
    ):
        time.sleep(0.02)
    replay = load_replay(session.dir).replay
    test = replay.steps[-1]
    assert isinstance(test, TestStep) and test.status == "running" and test.ended is None
    assert {s.status for s in test.settings} <= {"running", "queued", "done"}
    assert replay.final == {} and replay.meta["closed"] is False
    session.cancel()
    controller.wait(30)


def test_a_torn_last_line_and_a_note_are_reported(new_session):
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 51.0\n")
    session.record("note", text="left for lunch")
    session.close()
    with open(session.dir / "journal.jsonl", "ab") as fh:
        fh.write(b'{"seq": 99, "type": "edit", "da')
    result = load_replay(session.dir)
    assert any("incomplete last line" in reason for reason in result.skipped)
    kinds = [s.kind for s in result.replay.steps]
    assert kinds == ["edit", "text"]
    note = result.replay.steps[1]
    assert isinstance(note, TextStep) and note.role == "note" and note.text == "left for lunch"


def test_a_tampered_journal_is_shown_with_a_warning(new_session):
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 51.0\n")
    session.edit(FAKE_FILE, 15, 15, "CRASH_AT = None\n")
    session.close()
    path = session.dir / "journal.jsonl"
    lines = path.read_bytes().split(b"\n")
    entry = json.loads(lines[2])
    entry["data"]["content"] = "SCORE = 99.0\n"  # changes the text, keeps the recorded hash
    lines[2] = json.dumps(entry, sort_keys=True).encode()
    path.write_bytes(b"\n".join(lines))
    result = load_replay(session.dir)
    assert any("hash chain broken" in reason for reason in result.skipped)
    assert any("does not reproduce" in reason for reason in result.skipped)
    first = result.replay.steps[0]
    assert isinstance(first, EditStep) and "SCORE = 99.0" in first.after.text
    assert any("not the one recorded" in note for note in first.notes)
    # the second edit still replays, on top of what the first made
    assert result.replay.steps[1].after.lines[13] == "SCORE = 99.0"


def test_read_only_files_in_the_journal_do_not_stop_the_replay(tmp_path):
    """Journals list read-only files with text None (only their hash)."""
    from sessions.journal import Journal

    directory = tmp_path / "fake-task" / "s1"
    journal = Journal(directory / "journal.jsonl")
    journal.append("session_created", task_id="fake-task", title="t", profile="demo", seed=1, data_root="/d",
                   test_budget=3, person="p", settings={"alpha": {"command": "x", "hidden": False}})
    text = "a\nb\nc\n"
    journal.append("files_initialised", files={
        "main.py": {"text": text, "sha256": sha256_text(text), "ranges": [[2, 2]]},
        "common.py": {"text": None, "sha256": "0" * 64, "ranges": []},
    })
    after = FileState.from_text(text, ()).lines
    journal.append("edit", file="main.py", start=2, end=2, content="B\n", sha256_after=sha256_text("a\nB\nc\n"))
    journal.append("mystery", value=1)
    journal.close()
    result = load_replay(directory)
    assert after == ("a", "b", "c")
    assert [s.kind for s in result.replay.steps] == ["edit"]
    assert result.replay.steps[0].after.text == "a\nB\nc\n"
    assert any("unknown type 'mystery'" in reason for reason in result.skipped)
