"""Every shipped task opens in the app on demo, its editable region in the editor."""

from __future__ import annotations

import pytest

from tasks.catalog import Catalog
from tests.tui.conftest import make_app, notifications, static_text

CATALOG = Catalog()
RUNNABLE = sorted(task_id for task_id, entry in CATALOG.entries.items() if entry.error is None)


def test_the_catalog_holds_the_thirteen_runnable_tasks():
    assert len(RUNNABLE) == 13, RUNNABLE


@pytest.mark.parametrize("task_id", RUNNABLE)
async def test_the_task_opens_on_demo_with_its_region_in_the_editor(session_factory, task_id):
    task = CATALOG.get(task_id)
    session = session_factory(task=task)
    region = task.editable_files[0]
    shipped = region.source.read_text(encoding="utf-8").splitlines()
    first, last = region.editable[0].start, region.editable[0].end
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = app.main.active_editor()
        assert editor is not None
        lines = editor.text.splitlines()
        assert lines[first - 1:last] == shipped[first - 1:last]
        assert static_text(app, "#budget") == "Tests ●●● 3 of 3 left"
        assert not [n for n in notifications(app) if "error" in n.lower()]
