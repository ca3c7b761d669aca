"""The live runs widget: it follows the engine on its own and tells the screen what happened
through messages; a finished run is loaded from disk; a late event of an older run is dropped;
each tab shows its setting's state in the current run (queued, preflight, running, done)."""

from __future__ import annotations

import threading
import time

from sessions.events import DONE, QUEUED, RUNNING, LogLines, RunKey, SettingStatus
from tests.pilot import confirm_test, dialog_text, wait_for
from tests.tui.conftest import make_app
from tui.screens.dialogs import ConfirmDialog, SubmitDialog
from tui.widgets.run_tabs import RunTabs, tab_id


async def test_a_test_started_outside_the_screen_streams_in_and_posts_its_end(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        runs = app.main.runs
        session.start_test()  # not through the screen: RunTabs follows the engine itself
        await wait_for(pilot, lambda: app.captured.of(RunTabs.RunEnded), what="RunEnded")
        assert [m.key for m in app.captured.of(RunTabs.RunEnded)] == [RunKey("test", 1)]
        assert any(m.session_changed for m in app.captured.of(RunTabs.StateChanged))
        await wait_for(pilot, lambda: runs.panels["beta"].status == DONE, what="beta done")
        alpha = runs.panels["alpha"]
        assert alpha.run_key == RunKey("test", 1) and alpha.status == DONE
        assert "done" in str(runs.get_tab("run-alpha").label)
        await wait_for(pilot, lambda: any("epoch=3" in line for line in alpha.log_view.lines), what="the log")


async def test_history_is_loaded_from_disk_and_stale_events_are_dropped(session_factory):
    session = session_factory()
    session.test()
    session.test()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        runs = app.main.runs
        await wait_for(pilot, lambda: runs.panels["alpha"].run_key == RunKey("test", 2), what="test #2 from disk")
        alpha = runs.panels["alpha"]
        assert alpha.status == DONE and [r["epoch"] for r in alpha.table_rows] == [1, 2, 3]
        assert alpha.previous and alpha.previous_name == "test #1"  # the curve it is compared with
        seen = alpha.lines_seen
        old = RunKey("test", 1)
        runs.pump(SettingStatus(old, "alpha", "failed", 1))
        runs.pump(LogLines(old, "alpha", ["a late line of test 1"], [{"epoch": 9}]))
        await pilot.pause(0.3)
        assert alpha.run_key == RunKey("test", 2) and alpha.status == DONE and alpha.lines_seen == seen
        assert [r["epoch"] for r in alpha.table_rows] == [1, 2, 3]


# -- each tab shows its setting's state in the current run ------------------------------------
def tab_title(runs: RunTabs, label: str) -> str:
    return str(runs.get_tab(tab_id(label)).label)


def log_text(panel) -> str:
    return "\n".join(panel.log_view.lines)


def slow_alpha(monkeypatch, epochs: int = 4, sleep: float = 0.4) -> None:
    """Only alpha sleeps: with one slot, beta waits behind it."""
    monkeypatch.setenv("FAKE_EPOCHS", str(epochs))
    monkeypatch.setenv("FAKE_SLEEP", str(sleep))
    monkeypatch.setenv("FAKE_SLOW_LABEL", "alpha")


def gate(monkeypatch, session, method: str) -> threading.Event:
    """Hold the engine's `method` (its preflight included) until the event is set."""
    opened = threading.Event()
    original = getattr(session, method)

    def held(*args, **kwargs):
        opened.wait(20)
        return original(*args, **kwargs)

    monkeypatch.setattr(session, method, held)
    return opened


async def test_with_one_slot_the_second_setting_says_queued_while_the_first_runs(session_factory, monkeypatch):
    slow_alpha(monkeypatch)
    session = session_factory()  # one slot
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await confirm_test(pilot, app)
        runs = app.main.runs
        beta = runs.panels["beta"]
        await wait_for(pilot, lambda: runs.panels["alpha"].status == RUNNING, what="alpha running")
        await wait_for(pilot, lambda: "queued" in tab_title(runs, "beta"), what="beta's tab: queued")
        assert session.state.tests[0].settings["beta"].status == QUEUED  # (the engine has not started it)
        assert beta.run_key == RunKey("test", 1) and beta.status == QUEUED
        assert "No test yet" not in log_text(beta)
        assert "starts when a slot is free (1 setting at a time)" in str(beta.query_one("#progress-text").content)
        await wait_for(pilot, lambda: beta.status == DONE, what="beta done")
        assert "done" in tab_title(runs, "beta")


async def test_a_queued_tab_of_test_2_never_shows_test_1_done(session_factory, monkeypatch):
    session = session_factory()
    session.test()
    slow_alpha(monkeypatch, sleep=3.0)  # alpha still runs when looked at, on a loaded machine too
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        runs = app.main.runs
        await wait_for(pilot, lambda: "done" in tab_title(runs, "beta"), what="test #1 from disk")
        await confirm_test(pilot, app)
        await wait_for(pilot, lambda: runs.panels["alpha"].status == RUNNING, what="alpha of test #2 running")
        await wait_for(pilot, lambda: runs.panels["beta"].run_key == RunKey("test", 2), what="beta on test #2")
        assert "queued" in tab_title(runs, "beta") and "done" not in tab_title(runs, "beta")
        assert "epoch=" not in log_text(runs.panels["beta"])  # test #1's log is gone from it


async def test_after_re_attaching_the_tabs_show_the_run_at_once(session_factory, monkeypatch):
    slow_alpha(monkeypatch, epochs=6, sleep=0.3)
    first = session_factory()
    first.start_test()
    deadline = time.monotonic() + 20
    while first.state.tests[0].settings["alpha"].status != RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    first.close()  # the app stopped: the job goes on
    session = session_factory.reopen(first.dir)
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()  # one refresh: no engine event needed
        runs = app.main.runs
        alpha, beta = runs.panels["alpha"], runs.panels["beta"]
        assert alpha.run_key == RunKey("test", 1) and "running" in tab_title(runs, "alpha")
        assert "No test yet" not in log_text(alpha)
        assert beta.run_key == RunKey("test", 1) and "queued" in tab_title(runs, "beta")
        await wait_for(pilot, lambda: session.state.tests[0].finished, timeout=30, what="the re-attached test")
        await wait_for(pilot, lambda: beta.status == DONE, what="beta done")


async def test_the_preflight_shows_on_the_tabs_and_a_refused_one_puts_them_back(session_factory, monkeypatch):
    session = session_factory()
    session.test()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        runs = app.main.runs
        await wait_for(pilot, lambda: "done" in tab_title(runs, "alpha"), what="test #1 from disk")
        opened = gate(monkeypatch, session, "start_test")
        await confirm_test(pilot, app)
        await wait_for(pilot, lambda: "preflight" in tab_title(runs, "alpha"), what="alpha: preflight")
        assert "preflight" in tab_title(runs, "beta")
        assert "preflight" in str(runs.panels["alpha"].query_one("#status").content)
        monkeypatch.setenv("FAKE_CHECK_FAIL", "1")
        opened.set()
        await wait_for(pilot, lambda: "preflight" not in tab_title(runs, "alpha"), what="the preflight's end")
        assert "done" in tab_title(runs, "alpha") and "done" in tab_title(runs, "beta")
        assert len(session.state.tests) == 1 and runs.panels["alpha"].run_key == RunKey("test", 1)


async def test_the_hidden_setting_says_preflight_during_the_submit_preflight(session_factory, monkeypatch):
    session = session_factory()
    session.test()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        runs = app.main.runs
        await wait_for(pilot, lambda: "done" in tab_title(runs, "alpha"), what="test #1 from disk")
        opened = gate(monkeypatch, session, "start_submit")
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SubmitDialog), what="the submit dialog")
        await pilot.press("enter")
        await dialog_text(pilot, app, ConfirmDialog, what="the submit confirmation")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "gamma" in runs.panels and runs.panels["gamma"].is_mounted, what="gamma's tab")
        gamma = runs.panels["gamma"]
        await wait_for(pilot, lambda: "preflight" in tab_title(runs, "gamma"), what="gamma: preflight")
        assert "No test yet" not in log_text(gamma) and "preflight check for the submission of test #1" in log_text(gamma)
        assert "done" in tab_title(runs, "alpha")  # the visible settings keep their test's state
        opened.set()
        await wait_for(pilot, lambda: gamma.status == DONE, timeout=30, what="gamma done")
        assert "preflight" not in tab_title(runs, "gamma") and "done" in tab_title(runs, "gamma")


async def test_a_first_test_refused_by_its_preflight_says_so_on_the_tabs(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_CHECK_FAIL", "1")
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        runs = app.main.runs
        await confirm_test(pilot, app)
        await wait_for(pilot, lambda: "did not pass" in log_text(runs.panels["alpha"]), what="the refusal on the tab")
        assert tab_title(runs, "alpha") == "alpha" and "no test yet" in str(runs.panels["alpha"].query_one("#status").content)
        assert "preflight check for test #1 did not pass: nothing ran" in log_text(runs.panels["beta"])
        assert session.state.budget_left == 3
