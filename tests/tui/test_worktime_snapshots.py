"""SVG snapshots of the working clock and the note editor: a paused session with a time
limit, the note dialog over it; and the History tab with a note.

Update them after a deliberate change with: pytest tests/tui/test_worktime_snapshots.py --snapshot-update
"""

from __future__ import annotations

from sessions.notes import add_note
from sessions.worktime import set_time_limit
from tests.pilot import wait_for
from tests.tui.conftest import make_app
from tests.tui.test_snapshots import quiet
from tui.screens.note import NoteDialog


def test_note_dialog_over_a_paused_session_100x30(snap_compare, session_factory):
    session = session_factory()
    set_time_limit(session, 7200)

    async def before(pilot):
        app = pilot.app
        await quiet(pilot, app)
        await pilot.press("f10")
        await wait_for(pilot, lambda: session.state.work.paused, what="the pause")
        app.clear_notifications()
        await pilot.pause(0.3)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog) and bool(app.screen.query("#note-text")),
                       what="the note editor")
        await pilot.press(*"Paused: **DWA** next?")
        await pilot.pause(0.3)

    assert snap_compare(make_app(session), terminal_size=(100, 30), run_before=before)


def test_history_tab_with_notes_160x48(snap_compare, session_factory, monkeypatch):
    session = session_factory()
    monkeypatch.setattr("sessions.journal.now_iso", lambda: "2025-01-01T12:05:00.000+00:00")  # the note's time
    add_note(session, "# plan\n- try a **higher** SCORE first\n- then the noise")

    async def before(pilot):
        app = pilot.app
        await quiet(pilot, app)
        app.main.runs.active = "history-pane"
        await wait_for(pilot, lambda: app.main.runs.active == "history-pane", what="the History tab")
        await pilot.pause(0.6)  # the tabs' underline follows
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(session), terminal_size=(160, 48), run_before=before)
