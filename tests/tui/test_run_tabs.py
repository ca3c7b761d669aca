"""The live runs widget: it follows the engine on its own and tells the screen what happened
through messages; a finished run is loaded from disk; a late event of an older run is dropped."""

from __future__ import annotations


from sessions.events import DONE, LogLines, RunKey, SettingStatus
from tests.pilot import wait_for
from tests.tui.conftest import make_app
from tui.widgets.run_tabs import RunTabs


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
