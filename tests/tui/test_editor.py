"""The editor refuses every change to a fixed line and applies the rest to the engine."""

from __future__ import annotations

from textual import events

from tasks.spec import LineRange
from tests.pilot import wait_for
from tests.tui.conftest import make_app, notifications

PATH = "fake/fake_driver.py"  # editable lines 14-16 (rows 13-15)


def editor_of(app):
    return app.main.active_editor()


async def test_cursor_starts_in_the_editable_range(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = editor_of(app)
        assert editor.has_focus
        assert editor.cursor_location == (13, 0)
        assert editor.ranges == (LineRange(14, 16),)


async def test_typing_pasting_cutting_and_deleting_on_a_locked_line_change_nothing(session_factory):
    session = session_factory()
    disk_before = session.disk_text(PATH)
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = editor_of(app)
        before = editor.text
        editor.move_cursor((9, 3))  # line 10: "import sys"
        await pilot.press("x", "enter", "tab", "backspace", "delete")
        app.post_message(events.Paste("pasted\ntext"))
        await pilot.pause()
        await pilot.press("ctrl+x", "ctrl+k", "ctrl+u", "ctrl+w")
        editor.select_line(10)
        await pilot.press("ctrl+v", "backspace")
        # At the edges of the range: backspace at line 14 col 0, delete at the end of line 16.
        editor.move_cursor((13, 0))
        await pilot.press("backspace")
        editor.move_cursor((15, len(editor.document[15])))
        await pilot.press("delete")
        # A selection from inside the range into fixed lines.
        editor.selection = ((14, 0), (18, 0))
        await pilot.press("z")
        await pilot.pause()
        assert editor.text == before
        assert not editor.dirty
        assert session.disk_text(PATH) == disk_before
        assert session.state.edits == 0
        refused = [n for n in notifications(app) if n.startswith("Edit refused")]
        assert refused and "line 10 is fixed" in refused[0]
        assert any("line 13 is fixed" in n for n in refused)  # the backspace joining 14 onto 13
        # A program that loads a violating text is refused too.
        editor.load_text(before.replace("import sys", "import os"))
        await pilot.pause()
        assert editor.text == before


async def test_typing_inside_the_range_moves_it_and_saving_applies_it_to_the_engine(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = editor_of(app)
        editor.move_cursor((15, len(editor.document[15])))  # end of line 16 "NOISE = 0.0"
        await pilot.press("enter", *"EXTRA = 1")
        app.post_message(events.Paste("\nMORE = 2"))
        await pilot.pause()
        assert editor.dirty
        assert editor.ranges == (LineRange(14, 18),)
        assert editor.document[16] == "EXTRA = 1" and editor.document[17] == "MORE = 2"
        assert session.state.edits == 0  # nothing reaches the engine before a save
        await pilot.press("ctrl+s")
        await pilot.pause()
        state = session.file_state(PATH)
        assert state.ranges == (LineRange(14, 18),)
        assert state.lines[16:18] == ("EXTRA = 1", "MORE = 2")
        assert session.disk_text(PATH) == editor.text == state.text
        assert session.state.edits == 1
        assert not editor.dirty
        assert any("Saved" in n for n in notifications(app))
        journal = (session.dir / "journal.jsonl").read_text()
        assert '"type": "edit"' in journal


async def test_undo_restores_typing_then_the_last_saved_edit(session_factory):
    session = session_factory()
    original = session.file_state(PATH).text
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = editor_of(app)
        editor.move_cursor((13, len(editor.document[13])))  # end of "SCORE = 50.0"
        await pilot.press("0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert session.file_state(PATH).lines[13] == "SCORE = 50.00"
        editor.history.checkpoint()
        await pilot.press("enter", "x")
        assert editor.ranges == (LineRange(14, 17),)
        for _ in range(3):  # unsaved typing first, batch by batch
            if editor.dirty:
                await pilot.press("ctrl+z")
                await pilot.pause()
        assert session.state.edits == 1
        assert editor.text == session.file_state(PATH).text
        assert editor.ranges == (LineRange(14, 16),)
        await pilot.press("ctrl+z")  # nothing unsaved: the engine undoes the saved edit (journaled)
        await pilot.pause()
        assert session.file_state(PATH).text == original == editor.text
        assert session.disk_text(PATH) == original
        assert '"type": "undo"' in (session.dir / "journal.jsonl").read_text()
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert any("nothing to undo" in n for n in notifications(app))


async def test_a_closed_session_is_read_only(session_factory):
    session = session_factory()
    session.test()
    session.submit(1)
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")  # the final table is shown first
        editor = editor_of(app)
        assert editor.read_only
        before = editor.text
        editor.move_cursor((13, 0))
        await pilot.press("x", "ctrl+s")
        assert editor.text == before


def _shown(editor) -> list[list[tuple]]:
    """The editor's lines as they would be painted now (its caches as they are)."""
    from textual.geometry import Region

    return [[(seg.text, seg.style) for seg in strip] for strip in editor.render_lines(Region(0, 0, *editor.size))]


def _redrawn(editor) -> list[list[tuple]]:
    """The same lines drawn from scratch."""
    editor._line_cache.clear()
    editor.refresh()
    return _shown(editor)


async def test_repainting_only_the_changed_rows_shows_the_same_as_a_full_redraw(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = editor_of(app)
        await wait_for(pilot, lambda: editor.highlighted, what="the first highlight")
        editor.move_cursor((15, len(editor.document[15])))  # end of line 16, the last editable one

        async def check(what: str) -> None:
            await pilot.pause()
            assert _shown(editor) == _redrawn(editor), f"stale rows on screen after {what}"

        await pilot.press(*" # typed")
        await check("typing on a line")
        await pilot.press("enter", *"EXTRA = (1,", "enter", *"2)")
        await check("new lines (the rows below move down)")
        await pilot.press("left")
        await check("the cursor onto a bracket (its match, a row up, is marked)")
        await pilot.press("right")
        await check("the cursor off the bracket")
        await pilot.press("home", "backspace")
        await check("joining two lines (the rows below move up)")
        await pilot.press("up", "shift+down", "shift+right")
        await check("moving the cursor and selecting")
        await pilot.press("ctrl+z")
        await check("undo")
        await pilot.press("enter", *'"""doc')
        await check("opening a string")
        await wait_for(pilot, lambda: editor.highlighted, what="the full highlight after typing")
        await check("the full highlight (the open string colours the rows below)")
