"""Every refusal from the engine reaches the person as a message, never a traceback."""

from __future__ import annotations

from tests.pilot import confirm_test, dialog_text, wait_for
from tests.tui.conftest import make_app, notifications, static_text
from tui.screens.dialogs import MessageDialog


async def test_a_failing_preflight_spends_nothing_and_says_what_is_missing(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_CHECK_FAIL", "1")
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await confirm_test(pilot, app)
        text = await dialog_text(pilot, app, MessageDialog, what="the refusal")
        assert "nothing spent" in text and "CHECK FAILED" in text and "fake.bin" in text
        assert "The test was not started" in str(app.screen.query_one(".dialog-title").content)
        await pilot.press("escape")
        assert session.state.budget_left == 3
        assert static_text(app, "#budget") == "Tests ●●● 3 of 3 left"
        assert app.main.preflight is None


async def test_code_that_does_not_compile_is_refused_before_spending(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = app.main.active_editor()
        editor.move_cursor((13, len(editor.document[13])))
        await pilot.press(*" +* (")
        await confirm_test(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog) or any(
            "compile" in n for n in notifications(app)), what="the refusal")
        shown = str(app.screen.query_one("#dialog-text").content) if isinstance(app.screen, MessageDialog) else ""
        assert "does not compile" in shown + " ".join(notifications(app))
        assert session.state.budget_left == 3


async def test_nothing_to_cancel_and_nothing_to_submit_yet(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f8")
        await pilot.press("f9")
        await wait_for(pilot, lambda: any("run a test first" in n for n in notifications(app)), what="the refusal")
        assert any("No test is running" in n for n in notifications(app))
        assert session.state.submission is None
