"""`mlsbench-tui --task ID` resumes or starts a session and says which, and why, in the app."""

from __future__ import annotations

import pytest

import tui.app
from tests.conftest import FIXTURE_TASKS
from tests.tui.conftest import make_app, notifications
from tui.cli import main


@pytest.fixture
def opened(tmp_path, capsys, monkeypatch):
    """Run the CLI; the app is not started, the session and notes it would get are returned."""
    monkeypatch.setenv("FAKE_EPOCHS", "2")
    base = ["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(tmp_path / "sessions")]
    calls = []

    def fake_run_app(session, notes=None):
        calls.append((session.id, list(notes or [])))
        session.close()

    monkeypatch.setattr(tui.app, "run_app", fake_run_app)

    def run(*args):
        code = main([*base, *args])
        out, err = capsys.readouterr()
        return code, out, err, (calls.pop() if calls else None)

    return run


def test_the_choice_is_told_in_the_app_not_printed_before_it(opened):
    code, out, err, (first, notes) = opened("--task", "fake-task")
    assert code == 0 and out == "" and err == ""  # nothing printed under the app's screen
    assert notes[0].startswith("Profile: demo (no CUDA device visible")
    assert notes[1] == (f"Started a new session {first} (profile demo, seed 42): "
                        "you have no session of this task yet.")

    code, out, err, (again, notes) = opened("--task", "fake-task", "--profile", "demo")
    assert again == first and out == err == ""
    assert notes == [f"Resumed session {first} (open, 3 tests left, profile demo, seed 42). `--new` starts a fresh one."]

    code, out, err, (fresh, notes) = opened("--task", "fake-task", "--profile", "demo", "--new")
    assert fresh != first
    assert notes == [f"Started a new session {fresh} (profile demo, seed 42): --new was given; your open "
                     f"session {first} stays as it was (--resume opens it)."]


def test_a_time_limit_given_on_resume_is_said_to_be_for_new_sessions(opened):
    _, _, _, (first, _) = opened("--task", "fake-task", "--profile", "demo")
    code, out, err, (again, notes) = opened("--task", "fake-task", "--profile", "demo", "--time-limit", "1h")
    assert code == 0 and again == first
    assert any(n.startswith("--time-limit applies to a new session only") for n in notes)


@pytest.mark.slow  # a whole session: a test and a submit
def test_a_submitted_last_session_is_why_a_new_one_starts(opened):
    _, _, _, (first, _) = opened("--task", "fake-task", "--profile", "demo")
    for args in (("test",), ("submit", "--n", "1")):
        code, out, err, _ = opened("session", args[0], "--session", first, *args[1:], "--json")
        assert code == 0, out
    code, out, err, (second, notes) = opened("--task", "fake-task", "--profile", "demo")
    assert second != first and out == err == ""
    assert notes == [f"Started a new session {second} (profile demo, seed 42): your last session of this task, "
                     f"{first}, was submitted (test #1) and takes no more edits or tests; "
                     f"`mlsbench-tui --resume {first}` shows its results."]


def test_an_open_session_of_another_profile_is_named(opened):
    _, _, _, (paper, _) = opened("--task", "fake-task", "--profile", "paper")
    _, _, _, (demo, notes) = opened("--task", "fake-task", "--profile", "demo")
    assert demo != paper
    assert notes[-1].endswith(f"your open session {paper} is on profile paper, seed 42, "
                              "not the profile or seed asked for.")


async def test_the_app_shows_its_notes_as_notices(session_factory):
    session = session_factory()
    app = make_app(session, notes=["Resumed session X (open, 3 tests left). `--new` starts a fresh one."])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Session: Resumed session X (open, 3 tests left). `--new` starts a fresh one." in notifications(app)

