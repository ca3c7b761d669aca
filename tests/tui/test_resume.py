"""Quitting while a test runs: leave it running and re-attach on resume, or cancel it."""

from __future__ import annotations

import pytest

from sessions.runner import _group_alive
from tests.pilot import confirm_test, wait_for
from tests.tui.conftest import make_app, notifications, static_text
from tui.screens.dialogs import ConfirmDialog, QuitDialog

pytestmark = pytest.mark.slow  # runs tests that take seconds (the fake driver sleeps)


async def start_slow_test(pilot, app) -> None:
    await confirm_test(pilot, app)
    panel = app.main.runs.panels["alpha"]
    await wait_for(pilot, lambda: panel.status == "running" and panel.lines_seen >= 3, what="alpha running")


async def test_quit_leaving_the_test_running_then_resume_reattaches(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "6")
    monkeypatch.setenv("FAKE_SLEEP", "0.4")
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await start_slow_test(pilot, app)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitDialog), what="the quit dialog")
        await pilot.press("l")  # leave it running
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    record = session.state.tests[0]
    assert not record.finished
    job = record.settings["alpha"].job_id
    # The training goes on without the app (or has just ended on its own, leaving its exit file).
    assert job and (_group_alive(int(job)) or (session.dir / "tests" / "1" / "alpha.exit").exists())
    assert record.settings["beta"].status == "queued"  # started only once someone follows the run again

    resumed = session_factory.reopen(session.dir)
    assert resumed.state.active_run() is not None
    app = make_app(resumed)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert any("Re-attached" in m for m in notifications(app))
        await wait_for(pilot, lambda: resumed.state.tests[0].finished, timeout=30, what="the re-attached test")
        alpha = app.main.runs.panels["alpha"]
        await wait_for(pilot, lambda: app.main.runs.panels["beta"].status == "done", what="beta done")
        assert alpha.status == "done"
        assert any("TRAIN_METRICS: epoch=6" in line for line in alpha.log_view.lines)
        assert static_text(app, "#budget") == "Tests ●●○ 2 of 3 left"
        assert resumed.state.tests[0].results()["test_acc_alpha"] == "50.00"


async def test_quit_cancelling_the_test(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "20")
    monkeypatch.setenv("FAKE_SLEEP", "0.5")
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await start_slow_test(pilot, app)
        job = int(session.state.tests[0].settings["alpha"].job_id)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitDialog), what="the quit dialog")
        await pilot.press("c")  # cancel it
        await wait_for(pilot, lambda: app.return_code is not None, timeout=30, what="the app to exit")
    assert not _group_alive(job)
    record = session.state.tests[0]
    assert record.finished and record.cancelled
    assert session.state.budget_left == 2  # a cancelled test is not refunded


async def test_cancel_key_stops_a_running_test(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "20")
    monkeypatch.setenv("FAKE_SLEEP", "0.5")
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await start_slow_test(pilot, app)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the cancel dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: session.state.tests[0].finished, timeout=30, what="the cancelled test")
        await wait_for(pilot, lambda: app.main.runs.panels["alpha"].status == "cancelled", what="alpha cancelled")
        assert "cancelled" in str(app.main.runs.panels["alpha"].query_one("#status").content)
        assert static_text(app, "#budget") == "Tests ●●○ 2 of 3 left"
