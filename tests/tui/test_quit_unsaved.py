"""ctrl+q with unsaved editor text asks (save / quit without saving / stay) and keeps a
recovery copy, which the next start offers back."""

from __future__ import annotations

from tests.pilot import wait_for
from tests.tui.conftest import make_app, notifications, set_score
from tui import recovery
from tui.screens.dialogs import ConfirmDialog, MessageDialog
from tui.screens.unsaved import UnsavedDialog

PATH = "fake/fake_driver.py"


async def ask_to_quit(pilot, app) -> None:
    await pilot.press("ctrl+q")
    await wait_for(pilot, lambda: isinstance(app.screen, UnsavedDialog), what="the unsaved-changes dialog")


async def quit_with_unsaved_score(pilot, app, value: str) -> None:
    await pilot.pause()
    await set_score(pilot, app, value)
    assert app.main.active_editor().dirty
    await ask_to_quit(pilot, app)


async def test_stay_keeps_the_text_and_save_journals_it_before_quitting(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await quit_with_unsaved_score(pilot, app, "61.0")
        assert "fake/fake_driver.py has changes" in str(app.screen.query_one("#dialog-text").content)
        assert recovery.read(session.dir).texts[PATH].count("SCORE = 61.0") == 1  # kept while it asks
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: app.screen is app.main, what="the main screen")
        assert app.main.active_editor().dirty and app.return_code is None
        assert recovery.read(session.dir) is None

        await ask_to_quit(pilot, app)
        await pilot.press("s")  # save and quit
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert session.file_state(PATH).lines[13] == "SCORE = 61.0"
    assert session.state.edits == 1
    assert recovery.read(session.dir) is None


async def test_quit_without_saving_keeps_a_copy_that_the_next_start_offers_back(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await quit_with_unsaved_score(pilot, app, "62.0")
        await pilot.press("d")  # quit without saving
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert session.state.edits == 0
    kept = recovery.read(session.dir)
    assert kept is not None and "SCORE = 62.0" in kept.texts[PATH]

    app = make_app(session_factory.reopen(session.dir))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the recovery offer")
        assert "fake/fake_driver.py" in str(app.screen.query_one("#dialog-text").content)
        await pilot.press("enter")  # put them back
        await wait_for(pilot, lambda: app.screen is app.main, what="the main screen")
        editor = app.main.active_editor()
        assert editor.document[13] == "SCORE = 62.0" and editor.dirty  # back, still unsaved
        assert recovery.read(session.dir) is None


async def test_a_discarded_offer_is_gone_and_an_unreadable_copy_is_reported_and_left(session_factory):
    session = session_factory()
    text = session.file_state(PATH).text
    recovery.keep(session.dir, {PATH: text.replace("SCORE = 50.0", "SCORE = 63.0")})
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the recovery offer")
        await pilot.press("escape")  # discard them
        await wait_for(pilot, lambda: app.screen is app.main, what="the main screen")
        assert app.main.active_editor().text == text and not app.main.active_editor().dirty
        assert recovery.read(session.dir) is None

    broken = recovery.recovery_path(session.dir)
    broken.write_text("{not json")
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog) or any(
            "Recovery copy" in n for n in notifications(app)), what="the message")
        shown = " ".join(notifications(app))
        if isinstance(app.screen, MessageDialog):
            shown += str(app.screen.query_one("#dialog-text").content)
        assert "cannot be read" in shown and "left as it is" in shown
    assert broken.read_text() == "{not json"
