"""A task with several editable files: one tab each, each guarded and saved on its own."""

from __future__ import annotations

import shutil

from tasks import Catalog
from tasks.spec import LineRange
from tests.conftest import FIXTURE_TASKS
from tests.pilot import wait_for
from tests.tui.conftest import make_app

EXTRA = "# fixed header\nA = 1\nB = 2\n# fixed footer\n"


def two_file_task(tmp_path):
    folder = tmp_path / "tasks" / "fake-task"
    shutil.copytree(FIXTURE_TASKS / "fake-task", folder)
    (folder / "extra.py").write_text(EXTRA)
    toml = folder / "task.toml"
    toml.write_text(toml.read_text().replace(
        "[[settings]]",
        '[[files]]\npath = "fake/extra.py"\nsource = "extra.py"\neditable = [[2, 3]]\n\n[[settings]]',
        1,
    ))
    return Catalog([tmp_path / "tasks"]).get("fake-task")


async def test_each_editable_file_gets_a_tab_and_its_own_guard(tmp_path, session_factory):
    session = session_factory(task=two_file_task(tmp_path))
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        editors = app.main.editors()
        assert [e.path for e in editors] == ["fake/fake_driver.py", "fake/extra.py"]
        files = app.main.query_one("#files")
        assert "single" not in files.classes
        files.active = "file-fake-extra-py"
        await pilot.pause()
        extra = app.main.active_editor()
        assert extra.path == "fake/extra.py"
        extra.focus()
        assert extra.cursor_location == (1, 0)  # line 2: the first editable line of this file
        await pilot.press("x")  # inside: allowed
        extra.move_cursor((0, 0))
        await pilot.press("y")  # line 1 is fixed: refused
        assert extra.document[0] == "# fixed header" and extra.document[1] == "xA = 1"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: session.state.edits == 1, what="the save")
        assert session.file_state("fake/extra.py").lines[1] == "xA = 1"
        assert session.file_state("fake/fake_driver.py").ranges == (LineRange(14, 16),)
        assert "fake/extra.py" in str(files.get_tab("file-fake-extra-py").label)
