"""The layout keys and screens reachable from the footer."""

from __future__ import annotations

from textual.widgets import TabbedContent

from tests.pilot import wait_for
from tests.tui.conftest import make_app
from tui.screens.help import HelpScreen
from tui.screens.results import LeaderboardScreen


async def test_layout_keys_help_and_leaderboard(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        assert "collapsed" in main.query_one("#task").classes  # below 120 columns: a one-line summary
        await pilot.press("f2")
        assert "collapsed" not in main.query_one("#task").classes
        await pilot.press("f2")
        assert "collapsed" in main.query_one("#task").classes
        await pilot.press("f6")
        assert "layout-logs" in main.query_one("#work").classes
        assert not main.query_one("#editor-pane").display
        await pilot.press("f6", "f6")
        assert main.query_one("#editor-pane").display and main.query_one("#runs").display
        runs = main.query_one("#runs", TabbedContent)
        seen = [runs.active]
        for _ in range(3):
            await pilot.press("f7")
            seen.append(runs.active)
        assert seen == ["run-alpha", "run-beta", "history-pane", "run-alpha"]
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, LeaderboardScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main)
        # Typing still goes to the editor, and the footer keys did not type anything.
        assert not main.active_editor().dirty
