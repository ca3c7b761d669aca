"""After a submit, while the hidden setting runs and after: the editor is read-only, the
footer offers only what is still possible, and the header clock stops."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from tests.pilot import wait_for
from tests.tui.conftest import fixed_clock, make_app, notifications, static_text
from tui.screens.dialogs import ConfirmDialog, SubmitDialog
from tui.screens.results import FinalResultsScreen

pytestmark = pytest.mark.slow  # a test and a submission


def footer_actions(app) -> set[str]:
    """What the main screen's footer offers (its keys' descriptions)."""
    footer = app.main.query_one(Footer)
    return {key.description for key in footer.query("FooterKey")}


async def test_after_submit_nothing_edits_the_footer_shrinks_and_the_clock_stops(session_factory, monkeypatch):
    session = session_factory()
    session.test()
    monkeypatch.setenv("FAKE_EPOCHS", "20")  # the hidden setting runs 10 s
    monkeypatch.setenv("FAKE_SLEEP", "0.5")
    now = [fixed_clock(session)()]  # 0:12:34 into the session
    app = make_app(session, clock=lambda: now[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: {"Save", "Test", "$EDITOR", "Submit"} <= footer_actions(app), what="the footer")
        assert "Results" not in footer_actions(app)
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SubmitDialog), what="the submit dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the submit confirmation")
        await pilot.press("enter")
        await wait_for(pilot, lambda: session.state.submission is not None and app.screen is app.main,
                       timeout=60, what="the submission to start")
        await wait_for(pilot, lambda: app.main.active_editor().read_only, what="the editor to turn read-only")
        assert not session.state.closed  # the hidden setting is still running
        await wait_for(pilot, lambda: not {"Save", "Test", "Undo", "$EDITOR", "Submit"} & footer_actions(app),
                       what="the footer without the editing keys")
        assert "Cancel" in footer_actions(app)  # the submission can still be cancelled

        # Typing, saving and undoing change nothing.
        editor = app.main.active_editor()
        before = editor.text
        editor.focus()
        await pilot.press("x", "ctrl+s", "ctrl+z")
        await pilot.pause(0.2)
        assert editor.text == before and not editor.dirty
        assert not any(n.startswith("Saved") or n.startswith("Undo") for n in notifications(app))
        assert session.state.edits == 0

        # The working clock stopped at the submission (journaled), and reads the same an hour later.
        await wait_for(pilot, lambda: not session.state.work.running, what="the working clock to stop")
        assert [e.data.get("why") for e in session.journal.entries if e.type == "clock_stopped"] == ["submitted"]
        stopped = static_text(app, "#elapsed")
        now[0] += 3600
        app.main.refresh_header()
        assert static_text(app, "#elapsed") == stopped

        await wait_for(pilot, lambda: session.state.closed, timeout=60, what="the submission to finish")
        await wait_for(pilot, lambda: isinstance(app.screen, FinalResultsScreen), what="the final table")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="the main screen")
        await wait_for(pilot, lambda: "Results" in footer_actions(app), what="F9 Results in the footer")
        assert not {"Submit", "Cancel", "Save", "Test"} & footer_actions(app)
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, FinalResultsScreen), what="F9: the final table again")
