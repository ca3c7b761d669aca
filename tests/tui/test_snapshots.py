"""SVG snapshots of the main, submit, final and leaderboard screens (fixed id, clock, no blinking).

Update them after a deliberate change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.widgets import Tabs

from tests.pilot import wait_for
from tests.tui.conftest import make_app
from tui.screens.dialogs import SubmitDialog
from tui.screens.results import FinalResultsScreen, LeaderboardScreen
from tui.widgets.run_tabs import RunTabs
from tui.widgets.target_banner import TargetBanner


def underlined(tabs: Tabs) -> bool:
    """The tabs' underline has reached the active tab (it follows a relabelled tab a
    repaint or more later, sometimes over half a second when the machine is busy)."""
    tab = tabs.active_tab
    if tab is None:
        return True
    underline = tabs.query_one("Underline")
    span = tab.virtual_region.shrink(tab.styles.gutter).column_span
    return (underline.highlight_start, underline.highlight_end) == span


def settled(app) -> bool:
    main = app.main
    if not main.query(RunTabs):
        return False  # the screen is not composed yet
    return (
        all(e.highlighted for e in main.editors())
        and all((p.run_key is not None or not app.session.state.tests) and p.drawn and p.ghosts is not None
                for p in main.runs.panels.values())
        and main.query_one(TargetBanner).board is not None
        and all(underlined(tabs) for tabs in main.query(Tabs))
    )


async def quiet(pilot, app) -> None:
    await wait_for(pilot, lambda: settled(app), what="highlighting and history")
    await pilot.pause(0.6)  # one plot redraw interval
    app.clear_notifications()
    await pilot.pause()


def test_main_screen_fresh_100x30(snap_compare, session_factory):
    session = session_factory()

    async def before(pilot):
        await quiet(pilot, pilot.app)

    assert snap_compare(make_app(session), terminal_size=(100, 30), run_before=before)


def two_tests(session_factory):
    session = session_factory(profile="paper")  # comparable: the plot shows the baselines
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("50.0", "60.0"))
    session.test()
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("60.0", "62.5"))
    session.test()
    return session


def test_main_screen_after_a_test_160x48(snap_compare, session_factory):
    async def before(pilot):
        await quiet(pilot, pilot.app)

    assert snap_compare(make_app(two_tests(session_factory)), terminal_size=(160, 48), run_before=before)


def test_main_screen_after_a_test_100x30(snap_compare, session_factory):
    """The task pane is one line, the editor has the width, the title is not cut."""
    async def before(pilot):
        await quiet(pilot, pilot.app)

    assert snap_compare(make_app(two_tests(session_factory)), terminal_size=(100, 30), run_before=before)


def test_submit_dialog(snap_compare, session_factory):
    session = session_factory()
    session.test()
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("50.0", "58.0"))
    session.test()

    async def before(pilot):
        app = pilot.app
        await quiet(pilot, app)
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SubmitDialog))
        await pilot.pause()

    assert snap_compare(make_app(session), terminal_size=(120, 36), run_before=before)


@pytest.mark.slow  # a whole session: a test and a submit
def test_final_results_screen(snap_compare, session_factory):
    session = session_factory()
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("50.0", "60.0"))
    session.test()
    session.submit(1)

    async def before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, FinalResultsScreen))
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(session), terminal_size=(120, 36), run_before=before)


def two_submitted(session_factory):
    first = session_factory(profile="paper")
    first.test()
    first.submit(1)
    first.close()
    session = session_factory(profile="paper")
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("50.0", "75.0"))
    session.test()
    session.submit(1)
    return session


async def open_leaderboard(pilot):
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, FinalResultsScreen))
    await pilot.press("f3")
    await wait_for(pilot, lambda: isinstance(app.screen, LeaderboardScreen))
    await pilot.pause(0.3)
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.slow  # two whole sessions
def test_leaderboard_screen(snap_compare, session_factory):
    assert snap_compare(make_app(two_submitted(session_factory)), terminal_size=(120, 36), run_before=open_leaderboard)


@pytest.mark.slow  # two whole sessions
def test_leaderboard_screen_100x30(snap_compare, session_factory):
    """Every column on screen: the detail gives way first (and the note says so)."""
    assert snap_compare(make_app(two_submitted(session_factory)), terminal_size=(100, 30), run_before=open_leaderboard)
