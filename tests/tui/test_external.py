"""Edits from outside the app: $EDITOR (suspend) and files saved by another editor (watchdog)."""

from __future__ import annotations

import sys
import textwrap

from tests.pilot import dialog_text, wait_for
from tests.tui.conftest import make_app, notifications
from tui.screens.dialogs import MessageDialog

PATH = "fake/fake_driver.py"

EDITOR_SCRIPT = textwrap.dedent(
    """
    import sys
    mode, path = sys.argv[1], sys.argv[-1]
    text = open(path).read()
    if mode == "violate":
        text = text.replace("import sys", "import os")       # line 10 is fixed
    else:
        text = text.replace("SCORE = 50.0", "SCORE = 99.0")  # line 14 is editable
    open(path, "w").write(text)
    """
)


def editor_command(tmp_path, mode: str) -> str:
    script = tmp_path / "fake_editor.py"
    script.write_text(EDITOR_SCRIPT)
    return f"{sys.executable} {script} {mode}"


async def test_external_editor_change_to_a_fixed_line_is_refused_and_reverted(session_factory, tmp_path, monkeypatch):
    session = session_factory()
    original = session.disk_text(PATH)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor_command(tmp_path, "violate"))
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        text = await dialog_text(pilot, app, MessageDialog, what="the refusal")
        assert "line 10 of fake/fake_driver.py is fixed" in text
        assert "put back" in text
        assert session.disk_text(PATH) == original  # reverted on disk
        assert session.state.edits == 0
        assert app.main.active_editor().text == original
        kept = list((session.dir / "rejected-edits").iterdir())
        assert len(kept) == 1 and "import os" in kept[0].read_text()
        await pilot.press("escape")


async def test_external_editor_change_inside_the_range_is_accepted(session_factory, tmp_path, monkeypatch):
    session = session_factory()
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor_command(tmp_path, "keep"))
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await wait_for(pilot, lambda: session.state.edits == 1, what="the accepted edit")
        assert session.file_state(PATH).lines[13] == "SCORE = 99.0"
        assert app.main.active_editor().document[13] == "SCORE = 99.0"
        assert any("accepted" in m for m in notifications(app))


async def test_a_file_saved_by_another_editor_is_picked_up_and_checked(session_factory):
    session = session_factory()
    target = session.workspace / PATH
    original = target.read_text()
    app = make_app(session, watch=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        target.write_text(original.replace("NOISE = 0.0", "NOISE = 0.5"))
        await wait_for(pilot, lambda: session.state.edits == 1, what="the watched change")
        await wait_for(pilot, lambda: app.main.active_editor().document[15] == "NOISE = 0.5", what="the editor")
        changed = target.read_text()
        target.write_text(changed.replace("import time", "import timeit"))
        assert "is fixed" in await dialog_text(pilot, app, MessageDialog, what="the refusal")
        await wait_for(pilot, lambda: target.read_text() == changed, what="the file put back")
        assert session.state.edits == 1
