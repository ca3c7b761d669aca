"""The working clock and notes in the app, driven with an injected clock (no sleeping)."""

from __future__ import annotations

from textual.widgets import TextArea

from sessions.worktime import set_time_limit
from tests.pilot import wait_for
from tests.tui.conftest import make_app, notifications, static_text
from tui.screens.dialogs import ConfirmDialog
from tui.screens.note import NoteDialog

T0 = 1_800_000_000.0


def journal_types(session) -> list[str]:
    return [e.type for e in session.journal.entries]


async def test_pause_stops_the_clock_and_refuses_edits_and_tests_until_resumed(session_factory):
    session = session_factory()
    now = [T0]
    app = make_app(session, clock=lambda: now[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert static_text(app, "#elapsed") == "work 0:00:00"
        now[0] += 65
        app.main.refresh_header()
        assert static_text(app, "#elapsed") == "work 0:01:05"

        await pilot.press("f10")
        await wait_for(pilot, lambda: session.state.work.paused, what="the pause")
        assert static_text(app, "#elapsed") == "PAUSED at 0:01:05 · F10 resumes"
        editor = app.main.active_editor()
        assert editor.read_only
        editor.focus()
        await pilot.press("x")
        await pilot.press("ctrl+t", "f4")
        await wait_for(pilot, lambda: any(n.startswith("The test was not started") for n in notifications(app)),
                       what="the test's refusal")
        assert any(n.startswith("Edit refused: the session is paused") for n in notifications(app))
        assert any(n.startswith("$EDITOR not opened: the session is paused") for n in notifications(app))
        refusal = next(n for n in notifications(app) if n.startswith("The test was not started"))
        assert "paused" in refusal and "resume it first" in refusal
        assert session.state.budget_left == 3 and session.state.edits == 0 and "x" not in editor.text.split("\n")[13]

        now[0] += 3600  # the pause is not counted
        app.main.refresh_header()
        assert static_text(app, "#elapsed") == "PAUSED at 0:01:05 · F10 resumes"
        refused = len([n for n in notifications(app) if n.startswith("Edit refused")])
        await pilot.press("p")  # the paused editor is read-only, so p reaches the screen: resume
        await wait_for(pilot, lambda: not session.state.work.paused, what="the resume")
        assert len([n for n in notifications(app) if n.startswith("Edit refused")]) == refused  # p is no edit
        assert not editor.read_only
        now[0] += 10
        app.main.refresh_header()
        assert static_text(app, "#elapsed") == "work 0:01:15"
        await pilot.press("p")  # in the editor, p is text again
        assert not session.state.work.paused
    app.close_session()
    clock = [t for t in journal_types(session) if t.startswith("clock_")]
    assert clock == ["clock_started", "clock_paused", "clock_resumed", "clock_stopped"]  # closing stops it
    assert session.state.work.seconds() == 75 and session.state.work.pauses == 1


async def test_the_clock_goes_on_from_the_journal_when_the_session_is_opened_again(session_factory):
    session = session_factory()
    now = [T0]
    app = make_app(session, clock=lambda: now[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        now[0] += 600
    app.close_session()
    reopened = session_factory.reopen(session.dir)
    app = make_app(reopened, clock=lambda: now[0] + 86_400)  # a day later: the day is not counted
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert static_text(app, "#elapsed") == "work 0:10:00"


async def test_when_the_time_limit_runs_out_only_a_submission_is_possible(session_factory):
    session = session_factory()
    set_time_limit(session, 120)
    now = [T0]
    app = make_app(session, clock=lambda: now[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        now[0] += 60
        app.main.refresh_header()
        assert static_text(app, "#elapsed") == "work 0:01:00 · 0:01:00 left"
        now[0] += 61
        app.main.tick_header()
        await wait_for(pilot, lambda: any(n.startswith("Time is up") for n in notifications(app)), what="time up")
        assert static_text(app, "#elapsed").startswith("TIME UP 0:02:0")
        assert app.main.active_editor().read_only
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: any(n.startswith("The test was not started") for n in notifications(app)),
                       what="the test's refusal")
        assert "time limit of 0:02:00 of working time is used up" in notifications(app)[-1]
        await pilot.press("f9")  # submitting is not refused for the time: here there is no test to submit
        await wait_for(pilot, lambda: any(n.startswith("Not submitted") for n in notifications(app)), what="submit")
        assert "run a test first" in notifications(app)[-1]
        assert session.state.budget_left == 3


async def test_a_note_is_written_in_a_modal_journaled_at_its_step_and_shown_in_history(session_factory):
    session = session_factory()
    app = make_app(session, clock=lambda: T0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog) and bool(app.screen.query("#note-text")),
                       what="the note editor")
        await pilot.press("ctrl+s")  # empty: refused, the editor stays
        await wait_for(pilot, lambda: any(n.startswith("Note not recorded") for n in notifications(app)), what="refusal")
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one("#note-text", TextArea).insert("# plan\ntry a **higher** score")
        await pilot.press("escape")  # text would be lost: asked first
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the discard question")
        await pilot.press("escape")  # keep writing
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), what="back in the note")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is app.main, what="the note saved")
        [entry] = [e for e in session.journal.entries if e.type == "person_note"]
        assert entry.data == {"text": "# plan\ntry a **higher** score", "step": "before the first test", "tests": 0}
        assert any(n == "Note: Note recorded before the first test (journaled)." for n in notifications(app))
        notes = str(app.main.query_one("#history #notes").content)
        assert "before the first test" in notes and "try a **higher** score" in notes
