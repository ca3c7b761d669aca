"""The editor refuses every change to a fixed line and applies the rest to the engine."""

from __future__ import annotations

from contextlib import asynccontextmanager

from textual import events

from tasks.spec import LineRange
from tests.pilot import wait_for
from tests.tui.conftest import make_app, notifications
from tui.widgets.editor import GuardedEditor

PATH = "fake/fake_driver.py"  # editable lines 14-16 (rows 13-15)


def editor_of(app):
    return app.main.active_editor()


@asynccontextmanager
async def editing(session, size=(100, 30)):
    """The app on `session`, settled, with its editor."""
    app = make_app(session)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield app, pilot, editor_of(app)


async def test_cursor_starts_in_the_editable_range(session_factory):
    session = session_factory()
    async with editing(session) as (app, pilot, editor):
        assert editor.has_focus
        assert editor.cursor_location == (13, 0)
        assert editor.ranges == (LineRange(14, 16),)


async def test_typing_pasting_cutting_and_deleting_on_a_locked_line_change_nothing(session_factory):
    session = session_factory()
    disk_before = session.disk_text(PATH)
    async with editing(session) as (app, pilot, editor):
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
    async with editing(session) as (app, pilot, editor):
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
    async with editing(session) as (app, pilot, editor):
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
    async with editing(session) as (app, pilot, editor):
        await pilot.press("escape")  # the final table is shown first
        assert editor.read_only
        before = editor.text
        editor.move_cursor((13, 0))
        await pilot.press("x", "enter", "ctrl+s")
        assert editor.text == before
        await pilot.press("tab")  # nothing to indent: Tab moves the focus on
        assert not editor.has_focus


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
    async with editing(session) as (app, pilot, editor):
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


# -- keys of a code editor (issue 16 items 1-4) --------------------------------------------------

def test_indentation_rules_for_a_new_line():
    from tui.indent import dedent_lines, indent_lines, next_line_indent

    assert next_line_indent("    x = 1", 4) == 4
    assert next_line_indent("    if x:", 4) == 8
    assert next_line_indent("    for a in b:  # comment: here", 4) == 8
    assert next_line_indent("    y = f(", 4) == 8
    assert next_line_indent("        return x", 4) == 4
    assert next_line_indent("    pass", 4) == 0
    assert next_line_indent("  raise ValueError('x')", 4) == 0
    assert next_line_indent("        break", 4) == 4
    assert next_line_indent("    passage = 1", 4) == 4  # a word starting with `pass` ends nothing
    assert next_line_indent("    s = 'a:'", 4) == 4  # a colon inside a string opens nothing
    assert next_line_indent("      ", 4) == 6
    assert indent_lines(["a", "", "  b"], 4) == ["    a", "", "      b"]
    assert dedent_lines(["      a", "  b", "c", ""], 4) == ["  a", "b", "c", ""]


def test_searching_and_line_requests():
    from tui.find import find_all, line_problem, line_request, pick

    lines = ["Noise = 1", "x = noise + NOISE", "none"]
    assert find_all(lines, "noise") == [(0, 0), (1, 4), (1, 12)]  # no capital: case ignored
    assert find_all(lines, "NOISE") == [(1, 12)]  # a capital: case matters
    assert find_all(lines, "") == []
    matches = find_all(lines, "noise")
    assert pick(matches, (1, 4)) == 2 and pick(matches, (1, 4), inclusive=True) == 1
    assert pick(matches, (1, 12)) == 0  # wraps to the top
    assert pick(matches, (0, 0), forward=False) == 2  # and to the bottom
    assert pick([], (0, 0)) is None
    assert line_request(":42") == 42 and line_request(" : 7 ") == 7 and line_request("42") is None
    assert line_problem(3, 3) is None
    assert line_problem(4, 3) == "there is no line 4: the file has lines 1-3"


def test_compile_errors_name_file_line_column_and_message():
    from tui.syntax_check import compile_error

    assert compile_error("a.py", "x = 1\n") is None
    assert compile_error("a.txt", "x = = 1\n") is None
    problem = compile_error("pkg/a.py", "x = 1\ny = = 2\n")
    assert (problem.path, problem.line, problem.column, problem.message) == ("pkg/a.py", 2, 5, "invalid syntax")
    assert str(problem) == "pkg/a.py, line 2, column 5: invalid syntax"
    indent = compile_error("a.py", "if x:\ny = 1\n")
    assert indent.line == 2 and "indented block" in indent.message


async def test_tab_indents_and_shift_tab_dedents_the_line_or_the_selection(session_factory):
    session = session_factory()
    async with editing(session) as (app, pilot, editor):
        original = editor.text
        editor.move_cursor((13, 5))  # "SCORE| = 50.0"
        await pilot.press("tab")
        assert editor.document[13] == "SCORE    = 50.0"  # to the next tab stop, at the cursor
        assert editor.has_focus  # Tab no longer moves the focus out of the editor
        await pilot.press("ctrl+z")
        editor.selection = ((13, 2), (15, 3))  # lines 14-16
        await pilot.press("tab")
        assert [editor.document[r] for r in (13, 14, 15)] == ["    SCORE = 50.0", "    CRASH_AT = None", "    NOISE = 0.0"]
        assert editor.selection == ((13, 6), (15, 7))  # the selection moves with its text
        await pilot.press("shift+tab", "shift+tab")  # the second has nothing left to remove
        assert editor.text == original
        editor.move_cursor((14, 0))
        await pilot.press("tab")
        assert editor.document[14] == "    CRASH_AT = None"
        await pilot.press("shift+tab")  # no selection: the cursor's line
        assert editor.document[14] == "CRASH_AT = None"
        # A selection ending at column 0 of a line leaves that line alone.
        editor.selection = ((13, 0), (15, 0))
        await pilot.press("tab")
        assert editor.document[13].startswith("    SCORE") and editor.document[15] == "NOISE = 0.0"
        await pilot.press("ctrl+z")  # one undo step per indent
        assert editor.text == original
        # The guard: a selection that reaches a fixed line is not indented at all.
        editor.selection = ((12, 0), (14, 3))  # lines 13-15; line 13 is fixed
        await pilot.press("tab", "shift+tab")
        await pilot.pause()
        assert editor.text == original and editor.ranges == (LineRange(14, 16),)
        assert any("line 13 is fixed" in n for n in notifications(app) if n.startswith("Edit refused"))


async def test_enter_keeps_the_indentation_and_follows_blocks(session_factory):
    session = session_factory()
    async with editing(session) as (app, pilot, editor):
        editor.move_cursor((15, len(editor.document[15])))  # end of line 16, the last editable one
        await pilot.press("enter", *"if NOISE:", "enter", *"for i in range(2):", "enter", *"x = i", "enter",
                          *"continue", "enter", "enter", *"y = 1")
        assert editor.text.splitlines()[15:22] == [
            "NOISE = 0.0",
            "if NOISE:",
            "    for i in range(2):",
            "        x = i",
            "        continue",
            "",  # the line Enter left holding only spaces is emptied
            "    y = 1",
        ]
        assert editor.ranges == (LineRange(14, 22),)
        # Enter in the middle of an indented line: the rest starts at the indentation.
        editor.move_cursor((18, len("        x =")))
        await pilot.press("enter")
        assert editor.document[18] == "        x =" and editor.document[19] == "        i"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert session.file_state(PATH).lines[16:20] == ("if NOISE:", "    for i in range(2):", "        x =", "        i")


async def test_saving_code_that_does_not_compile_says_where_and_still_journals_it(session_factory):
    session = session_factory()
    async with editing(session) as (app, pilot, editor):
        editor.move_cursor((13, len("SCORE =")))
        await pilot.press(*" =", "ctrl+s")  # SCORE = = 50.0
        await pilot.pause()
        assert session.state.edits == 1  # the edit is journaled all the same
        assert session.file_state(PATH).lines[13] == "SCORE = = 50.0"
        warned = [n for n in notifications(app) if n.startswith("Does not compile")]
        assert warned and "fake/fake_driver.py, line 14, column 9: invalid syntax" in warned[0]
        assert "14: SCORE = = 50.0" in warned[0]
        pane = app.main.query_one("#editor-pane")
        assert "✗ line 14: invalid syntax" in str(pane.border_title)  # stays in view after the notice
        await pilot.press("backspace", "backspace", "ctrl+s")
        await pilot.pause()
        assert session.state.edits == 2 and editor.compile_problem is None
        assert "✗" not in str(pane.border_title)
        # Text from the engine (an undo here; a save in $EDITOR takes the same way) is checked too.
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert session.file_state(PATH).lines[13] == "SCORE = = 50.0"
        assert len([n for n in notifications(app) if n.startswith("Does not compile")]) == 2
        assert "✗ line 14: invalid syntax" in str(pane.border_title)


async def test_find_in_the_file_and_go_to_a_line(session_factory):
    from textual.widgets import Input

    from tui.widgets.find_bar import FindBar

    session = session_factory()
    async with editing(session) as (app, pilot, editor):
        lines = editor.document.lines
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindBar), what="the find bar")
        await pilot.press(*"noise")  # incremental, from the cursor (line 14); case ignored
        hits = [(r, c) for r, line in enumerate(lines) for c in range(len(line)) if line[c:c + 5].lower() == "noise"]
        assert len(hits) == 2
        assert editor.selection == (hits[0], (hits[0][0], hits[0][1] + 5)) and hits[0][0] == 15
        status = app.screen.query_one("#find-status")
        assert str(status.render()) == f"1 of {len(hits)}"
        await pilot.press("enter")
        assert editor.selection.start == hits[1]
        await pilot.press("down")  # next: past the last, wraps to the first
        assert editor.selection.start == hits[0]
        await pilot.press("up")  # previous: before the first, wraps to the last
        assert editor.selection.start == hits[1]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert editor.has_focus and editor.selected_text.lower() == "noise"
        await pilot.press("ctrl+f")  # the last search comes back, selected for retyping
        await wait_for(pilot, lambda: isinstance(app.screen, FindBar))
        assert app.screen.query_one(Input).value == "noise"
        await pilot.press(*"zzz")  # typing replaces the selected search text
        assert "no match for 'zzz'" in str(app.screen.query_one("#find-status").render())
        await pilot.press("ctrl+a", "ctrl+k", *":20", "enter")  # :N in the find bar goes to line N
        await wait_for(pilot, lambda: app.screen is app.main)
        assert editor.cursor_location == (19, 0)
        await pilot.press("alt+g")
        await wait_for(pilot, lambda: isinstance(app.screen, FindBar))
        await pilot.press(*"x9x99", "enter")  # only digits are taken
        assert app.screen.query_one(Input).value == "999"
        assert "there is no line 999" in str(app.screen.query_one("#find-status").render())
        await pilot.press("backspace", "backspace", "enter")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert editor.cursor_location == (8, 0) and not editor.dirty  # line 9; nothing was typed into the file


async def test_pane_keys_move_the_focus_and_mark_the_focused_pane(session_factory):
    from textual.widgets._tabbed_content import ContentTabs

    session = session_factory()
    async with editing(session, size=(120, 36)) as (app, pilot, editor):
        main = app.main
        task, runs = main.query_one("#task"), main.query_one("#runs")
        tabs = runs.query_one(ContentTabs)
        unmarked = tabs.styles.background
        assert editor.has_focus and main.query_one("#editor-pane").has_pseudo_class("focus-within")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert runs in main.focused.ancestors_with_self
        assert tabs.styles.background != unmarked  # the logs' tab bar is marked
        await pilot.press("ctrl+n")
        assert main.focused is task
        task_mark = task.styles.border_right
        await pilot.press("ctrl+n")
        assert editor.has_focus and task.styles.border_right != task_mark
        assert tabs.styles.background == unmarked
        await pilot.press("ctrl+p")
        assert main.focused is task
        await pilot.press("f2")  # hiding the focused task pane hands the focus to the editor
        await pilot.pause()
        assert editor.has_focus
        await pilot.press("ctrl+n", "ctrl+n")  # a hidden pane is skipped
        assert editor.has_focus
        await pilot.press("escape")  # escape leaves the editor
        assert not editor.has_focus
        await pilot.press("ctrl+n")
        assert editor.has_focus
        await pilot.press("f6")
        assert any("logs only (editor hidden)" in n for n in notifications(app))
        await pilot.pause()
        assert runs in main.focused.ancestors_with_self  # the focus left the hidden editor for the logs
        await pilot.press("f6")
        assert any("editor only (logs hidden)" in n for n in notifications(app))
        await pilot.pause()
        assert editor.has_focus
        assert not editor.dirty  # none of these keys typed anything


def test_help_names_every_key_the_footer_and_editor_bind():
    from tui.app import MlsBenchApp
    from tui.screens.help import HELP
    from tui.screens.main import MainScreen
    from tui.widgets.editor import GuardedEditor

    keys = {key for cls in (MlsBenchApp, MainScreen, GuardedEditor) for b in cls.BINDINGS for key in b.key.split(",")}
    missing = [key for key in sorted(keys) if f"**{key}**" not in HELP.replace("**F", "**f")]
    assert not missing, f"keys bound but not in the help: {missing}"
    assert "| **tab** | indent" in HELP and "| **ctrl+n** / **ctrl+p** | focus the next / previous pane" in HELP


async def test_enter_after_a_fixed_line_of_spaces_leaves_it_as_it_is():
    from textual.app import App

    text = "a = 1\n    \nb = 2\n"
    lines = text.splitlines()
    editor = GuardedEditor("x.py", text, lines, (LineRange(3, 3),), cursor_blink=False)

    class One(App):
        def compose(self):
            yield editor

    async with One().run_test(size=(60, 10)) as pilot:
        editor.focus()
        editor.move_cursor((1, 4))  # the end of line 2, fixed, only spaces
        await pilot.press("enter")
        assert editor.text == "a = 1\n    \n    \nb = 2\n"  # a line opened at the start of the range
        assert editor.ranges == (LineRange(3, 4),)
