"""Below 120 columns the task pane is a one-line summary (F2 opens it), the editor takes the
width, and the header's title is never cut."""

from __future__ import annotations

from tests.pilot import wait_for
from tests.tui.conftest import make_app, static_text
from tui.widgets.task_pane import TaskPane, TaskSummary

FULL_TITLE = "fake-task · Fake task for engine tests"


def task_shown(app) -> bool:
    pane, summary = app.main.query_one(TaskPane), app.main.query_one(TaskSummary)
    assert pane.has_class("collapsed") == summary.display  # one or the other, never both
    return not pane.has_class("collapsed")


async def test_a_narrow_screen_shows_the_task_in_one_line_and_f2_opens_it(session_factory):
    app = make_app(session_factory())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not task_shown(app)
        assert "Fake task for engine tests" in str(app.main.query_one(TaskSummary).render())
        assert app.main.files.outer_size.width == 100  # the editor has the whole width
        await wait_for(pilot, lambda: static_text(app, "#header #title") == "fake-task", what="the short title")
        await pilot.press("f2")
        await pilot.pause()
        assert task_shown(app)
        await pilot.resize_terminal(160, 48)  # the person's choice holds at any width
        await pilot.pause()
        assert task_shown(app)
        await wait_for(pilot, lambda: static_text(app, "#header #title") == FULL_TITLE, what="the full title")
        await pilot.press("f2")
        await pilot.pause()
        assert not task_shown(app)


async def test_a_wide_screen_shows_the_task_pane_until_the_window_narrows(session_factory):
    app = make_app(session_factory())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert task_shown(app)
        await wait_for(pilot, lambda: static_text(app, "#header #title") == FULL_TITLE, what="the full title")
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: not task_shown(app), what="the pane to collapse")
        await wait_for(pilot, lambda: static_text(app, "#header #title") == "fake-task", what="the short title")
