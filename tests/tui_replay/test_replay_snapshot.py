"""An SVG snapshot of the replay screen at a test step (fixed replay, paused, highlighting done).

Update after a deliberate change with: pytest tests/tui_replay/test_replay_snapshot.py --snapshot-update
"""

from __future__ import annotations

from sessions.replay import load_replay
from tests.tui_replay.conftest import fixture_path, wait_for
from tui.replay_app import ReplayApp


def test_replay_screen_at_a_test_100x30(snap_compare, catalog):
    result = load_replay(fixture_path("fake_clean.json"), catalog)
    app = ReplayApp(result, catalog=catalog)

    async def before(pilot):
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.index == 1, what="the first step")
        for _ in range(4):
            await pilot.press("right")
        await wait_for(pilot, lambda: screen.index == 5 and screen.editor.highlighted, what="step 5 highlighted")
        plot = screen.query_one("#test-plot")
        await wait_for(pilot, lambda: plot.settled, what="the plot built")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=before)
