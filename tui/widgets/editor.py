"""The workspace editor: a TextArea that refuses every change to a fixed line.

TextArea.edit() is the choke point for typing, paste, cut, delete and
suggestions; undo/redo replay edits without it and load_text bypasses it, so
those are guarded here too. Every edit is checked at the line level against
the editable ranges (tui.guard) before it touches the buffer; the ranges then
move as the engine would move them. Saving hands the whole text to
Session.replace_text, which journals one edit per changed range.

It keys as a code editor: Tab / shift+Tab indent / dedent the line or the
selected lines, Enter keeps the indentation (tui.indent), ctrl+f searches and
alt+g goes to a line (tui.widgets.find_bar). Indenting is an edit like any
other, so it too is refused on fixed lines. A save that does not compile says
where and why, in a notice and in the legend above the editor.
"""

from __future__ import annotations

from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult, Selection

from tasks.spec import LineRange
from tui.guard import RangeTracker, Verdict, check_edit
from tui.highlight import Highlights, highlight, highlight_lines, lexer_for
from tui.indent import dedent_lines, indent_lines, leading_spaces, next_line_indent
from tui.model import editable_ranges_text
from tui.syntax_check import CompileError, compile_error
from tui.widgets.find_bar import FindBar

EDITABLE_MARK = "┃"
LOCKED_MARK = "│"
LOCKED_STYLE = Style(dim=True)
FULL_HIGHLIGHT_DELAY = 1.0  # seconds of no typing before the whole file is re-lexed


def _rows(selection: Selection) -> range:
    (a, _), (b, _) = selection
    return range(min(a, b), max(a, b) + 1)


class GuardedEditor(TextArea):
    """One editable workspace file."""

    DEFAULT_CSS = """
    GuardedEditor { border: none; padding: 0; }
    GuardedEditor > .guarded-editor--editable-mark { color: $success; text-style: bold; }
    GuardedEditor > .guarded-editor--locked-mark { color: $error 60%; }
    """
    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {
        "guarded-editor--editable-mark",
        "guarded-editor--locked-mark",
    }

    # TextArea repaints all of itself whenever the cursor moves, which re-styles every
    # visible line on every key; here only the rows the selection leaves or enters are
    # repainted (`_watch_selection`), and an edit repaints only the rows it changed.
    selection = reactive(Selection(), init=False, always_update=True, repaint=False)

    BINDINGS = [
        Binding("ctrl+z", "undo", "Undo", show=False),
        Binding("ctrl+y", "redo", "Redo", show=False),
        # The editor's Tab beats the screen's (which moves the focus); escape leaves the editor.
        Binding("tab", "indent", "Indent", show=False),
        Binding("shift+tab", "dedent", "Dedent", show=False),
        Binding("escape", "app.focus_next", "Leave editor", show=False),
        Binding("ctrl+f", "find", "Find", show=False),  # F1 lists it: the footer is full at 100 columns
        Binding("alt+g", "go_to_line", "Go to line", show=False),
    ]

    class Refused(Message):
        """An edit that would change a fixed line was refused."""

        def __init__(self, editor: GuardedEditor, message: str) -> None:
            super().__init__()
            self.editor, self.message = editor, message

    class EngineUndo(Message):
        """Undo with nothing unsaved: undo the last saved (journaled) edit."""

        def __init__(self, editor: GuardedEditor) -> None:
            super().__init__()
            self.editor = editor

    class DirtyChanged(Message):
        def __init__(self, editor: GuardedEditor, dirty: bool) -> None:
            super().__init__()
            self.editor, self.dirty = editor, dirty

    def __init__(
        self,
        path: str,
        text: str,
        fixed_from: Sequence[str],
        ranges: Sequence[LineRange],
        *,
        cursor_blink: bool = True,
        id: str | None = None,
    ) -> None:
        self.path = path
        self.locked_because: str | None = None  # read-only for a while (paused, out of time): said on a key
        self.tracker = RangeTracker(fixed_from, ranges)
        self.saved_text = text
        self._lexer = lexer_for(path)
        self._loading = False
        self._pending_shift: tuple[int, int, int] | None = None
        self._doc_version = 0
        self.highlight_version = -1  # doc version the highlights were computed for
        self._dirty = False
        self._highlight_timer = None
        self._gutter_seen = 0  # the gutter width the cached line renders were drawn with
        self._ready = False  # mounted: timers and workers may start
        self.compile_problem: CompileError | None = compile_error(path, text)
        self.last_search = ""
        super().__init__(
            text,
            id=id,
            language=None,
            soft_wrap=False,
            tab_behavior="focus",  # TextArea would only insert spaces: Tab is bound to action_indent
            show_line_numbers=True,
            show_cursor=True,
        )
        self.cursor_blink = cursor_blink
        self.indent_width = 4

    # -- facts ------------------------------------------------------------------------
    @property
    def ranges(self) -> tuple[LineRange, ...]:
        return self.tracker.ranges

    @property
    def dirty(self) -> bool:
        return self._dirty

    def first_editable_location(self) -> tuple[int, int]:
        if not self.ranges:
            return (0, 0)
        r = self.ranges[0]
        row = min(max(r.start - 1, 0), self.document.line_count - 1)
        return (row, len(self.document[row]) if r.length == 0 else 0)

    def on_mount(self) -> None:
        self._ready = True
        self.move_cursor(self.first_editable_location())
        self.call_after_refresh(self.scroll_cursor_visible, center=True)
        self._schedule_highlight(0)

    # -- loading (from the engine) ------------------------------------------------------
    def show_saved(self, text: str, ranges: Sequence[LineRange], keep_cursor: bool = True) -> None:
        """Show the engine's text and ranges; clears the edit history."""
        cursor = self.cursor_location
        changed = text != self.saved_text
        self.tracker.ranges = tuple(ranges)
        self.saved_text = text
        self._loading = True
        try:
            super().load_text(text)
        finally:
            self._loading = False
        if keep_cursor:
            row = min(cursor[0], self.document.line_count - 1)
            self.move_cursor((row, min(cursor[1], len(self.document[row]))))
        else:
            self.move_cursor(self.first_editable_location(), center=True)
        self._check_compiles(announce=changed and not self.read_only)  # e.g. saved in $EDITOR, or an undo
        self._update_dirty()

    def load_text(self, text: str) -> None:
        """Only a text that keeps every fixed line may be loaded."""
        if self._loading:
            super().load_text(text)
            return
        ranges = self.tracker.ranges_for(text)
        if ranges is None:
            self._refuse("that text changes fixed lines; it was not loaded")
            return
        self.tracker.ranges = ranges
        self._loading = True
        try:
            super().load_text(text)
        finally:
            self._loading = False
        self._update_dirty()

    def mark_saved(self, ranges: Sequence[LineRange] | None = None) -> None:
        """The engine took the text (journaled); say at once if it does not compile,
        rather than when a test is refused for it."""
        self.saved_text = self.text
        if ranges is not None and tuple(ranges) != self.tracker.ranges:
            self.tracker.ranges = tuple(ranges)
            self._forget_all()
        self._check_compiles(announce=True)
        self._update_dirty()

    def _check_compiles(self, announce: bool) -> None:
        """Keep `compile_problem` (shown in the legend) current; `announce` it in a notice too."""
        self.compile_problem = problem = compile_error(self.path, self.text)
        if problem is None or not announce:
            return
        code = self.document[problem.line - 1].strip() if problem.line <= self.document.line_count else ""
        self.notify(
            f"{problem}\n{problem.line}: {code}\nThe change is saved (journaled); a test is refused until it compiles.",
            title="Does not compile", severity="warning", timeout=10,
        )

    # -- the guard ----------------------------------------------------------------------
    def _verdict(self, start: tuple[int, int], end: tuple[int, int], text: str) -> Verdict:
        return check_edit(self.document.lines, self.tracker.ranges, start, end, text)

    def _refuse(self, message: str) -> None:
        self.post_message(self.Refused(self, message))

    def _replace_via_keyboard(self, insert: str, start, end) -> EditResult | None:
        if self.read_only:
            return None
        verdict = self._verdict(start, end, insert)
        if not verdict.allowed:
            self._refuse(verdict.message)
            return None
        return super()._replace_via_keyboard(insert, start, end)

    def _delete_via_keyboard(self, start, end) -> EditResult | None:
        if self.read_only:
            return None
        verdict = self._verdict(start, end, "")
        if not verdict.allowed:
            self._refuse(verdict.message)
            return None
        return super()._delete_via_keyboard(start, end)

    def edit(self, edit: Edit) -> EditResult:
        if self._loading:
            return super().edit(edit)
        verdict = self._verdict(edit.from_location, edit.to_location, edit.text)
        if not verdict.allowed:
            self._refuse(verdict.message)
            return EditResult(end_location=self.cursor_location, replaced_text="")
        before = self.tracker.ranges
        assert verdict.ranges is not None
        self.tracker.ranges = verdict.ranges
        edit._mls_ranges = (before, verdict.ranges)  # type: ignore[attr-defined]
        top, bottom = sorted((edit.from_location, edit.to_location))
        self._pending_shift = (top[0], bottom[0], top[0] + edit.text.count("\n"))
        try:
            result = super().edit(edit)
        finally:
            self._pending_shift = None
        self._update_dirty()
        return result

    # -- keys of a code editor -----------------------------------------------------------------
    def action_indent(self) -> None:
        """Tab: spaces to the next tab stop at the cursor; with lines selected, indent them.
        A read-only editor has nothing to indent: Tab moves the focus on, as elsewhere."""
        if self.read_only:
            self.screen.focus_next()
            return
        start, end = self.selection
        if start == end:
            self._replace_via_keyboard(" " * self._find_columns_to_next_tab_stop(), start, end)
        else:
            self._shift_lines(deeper=True)

    def action_dedent(self) -> None:
        """shift+Tab: the cursor's line, or the selected lines, one level shallower."""
        if self.read_only:
            self.screen.focus_previous()
            return
        self._shift_lines(deeper=False)

    def _shift_lines(self, deeper: bool) -> None:
        start, end = self.selection
        first, last = sorted((start[0], end[0]))
        if last > first and max(start, end)[1] == 0:  # a selection that ends at column 0 leaves that line
            last -= 1
        old = [self.document[row] for row in range(first, last + 1)]
        new = indent_lines(old, self.indent_width) if deeper else dedent_lines(old, self.indent_width)
        if new == old:
            return
        top, bottom = (first, 0), (last, len(old[-1]))
        text = "\n".join(new)
        verdict = self._verdict(top, bottom, text)
        if not verdict.allowed:
            self._refuse(verdict.message)
            return
        self.history.checkpoint()  # one undo step of its own
        self.edit(Edit(text, top, bottom, maintain_selection_offset=False))
        self.history.checkpoint()

        def moved(location: tuple[int, int]) -> tuple[int, int]:
            row, column = location
            if not first <= row <= last:
                return location
            shift = len(new[row - first]) - len(old[row - first])
            return (row, max(column + shift, 0) if column else 0)

        self.selection = Selection(moved(start), moved(end))

    def _newline(self) -> None:
        """Enter: the new line starts at the indentation tui.indent asks for, and spaces
        after the cursor are not carried down."""
        top, bottom = sorted(self.selection)
        before = self.document[top[0]][: top[1]]
        after = self.document[bottom[0]][bottom[1]:]
        indent = next_line_indent(before, self.indent_width)
        # Empty a line left holding only spaces, unless it is fixed (it must stay as it is).
        blank = before and not before.strip() and self.tracker.is_editable_row(top[0])
        start = (top[0], 0) if blank else top
        end = (bottom[0], bottom[1] + leading_spaces(after))
        self._replace_via_keyboard("\n" + " " * indent, start, end)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # An alt+letter reaches the app as the letter with alt: it is a key binding (alt+g), never text.
        return not key.startswith("alt+") and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls TextArea._on_key after this one unless the default is prevented.
        if event.key.startswith("alt+"):
            event.prevent_default()
        elif event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            self._restart_blink()
            self._newline()
        elif self.read_only and self.locked_because and event.is_printable:
            if event.key not in self.screen.active_bindings:  # a key the screen binds (p resumes) is no edit
                self._refuse(self.locked_because)

    def action_find(self) -> None:
        self.app.push_screen(FindBar(self, "find"))

    def action_go_to_line(self) -> None:
        self.app.push_screen(FindBar(self, "line"))

    def show_match(self, location: tuple[int, int], length: int) -> None:
        row, column = location
        self.selection = Selection(location, (row, column + length))
        self.scroll_cursor_visible(center=True)

    def go_to_line(self, number: int) -> None:
        """Cursor to the first character of file line `number` (1-based)."""
        row = min(max(number, 1), self.document.line_count) - 1
        self.move_cursor((row, leading_spaces(self.document[row])), center=True)

    def action_undo(self) -> None:
        if self.read_only:
            return
        if self._dirty and self.history.undo_stack:
            self.undo()
        else:
            self.post_message(self.EngineUndo(self))

    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        recorded = getattr(edits[0], "_mls_ranges", None) if edits else None
        super()._undo_batch(edits)
        self._after_history(recorded[0] if recorded else None, lambda: super(GuardedEditor, self)._redo_batch(edits))

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        recorded = getattr(edits[-1], "_mls_ranges", None) if edits else None
        super()._redo_batch(edits)
        self._after_history(recorded[1] if recorded else None, lambda: super(GuardedEditor, self)._undo_batch(edits))

    def _after_history(self, ranges: tuple[LineRange, ...] | None, revert) -> None:
        found = self.tracker.ranges_for(self.text)
        if found is None:  # never expected: history only holds edits that were allowed
            revert()
            self._refuse("that undo/redo would change fixed lines; it was not applied")
            return
        self.tracker.ranges = ranges if ranges is not None else found
        self._update_dirty()

    def _update_dirty(self) -> None:
        dirty = self.text != self.saved_text
        if dirty != self._dirty:
            self._dirty = dirty
            self.post_message(self.DirtyChanged(self, dirty))

    # -- repainting only what changed ------------------------------------------------------
    def _watch_selection(self, previous: Selection, selection: Selection) -> None:
        match = self._matching_bracket_location
        super()._watch_selection(previous, selection)
        if not self.is_mounted:
            return
        spans = [_rows(previous), _rows(selection)]
        spans += [range(loc[0], loc[0] + 1) for loc in (match, self._matching_bracket_location) if loc is not None]
        for span in spans:
            self.refresh_lines(span.start, len(span))

    def _forget_rows(self, rows: range) -> None:
        """Drop the cached renders of these rows and repaint them. TextArea's line cache
        is keyed by the row's place (third item of the key), not by its text."""
        if self.soft_wrap or self.gutter_width != self._gutter_seen:
            self._forget_all()
            return
        cache = self._line_cache
        for key in [k for k in cache.keys() if k[2] in rows]:
            cache.discard(key)
        self.refresh_lines(rows.start, len(rows))

    def _forget_all(self) -> None:
        self._gutter_seen = self.gutter_width
        self._line_cache.clear()
        self.refresh()

    # -- highlighting ----------------------------------------------------------------------
    def _build_highlight_map(self) -> None:
        """After an edit: keep the highlights aligned and repaint the rows it changed;
        a full Pygments pass follows once the typing pauses."""
        self._doc_version = getattr(self, "_doc_version", 0) + 1
        if not hasattr(self, "_lexer"):  # TextArea.__init__ loading the first text
            self._line_cache.clear()
            return
        shift = self._pending_shift
        if shift is None or not self._highlights:  # load, undo, redo: everything may have moved
            self._forget_all()
            self._schedule_highlight(0)
            return
        top, old_bottom, new_bottom = shift
        delta = new_bottom - old_bottom
        moved: Highlights = {}
        for row, items in self._highlights.items():
            if row < top:
                moved[row] = items
            elif row > old_bottom:
                moved[row + delta] = items
        lines = [self.document[r] for r in range(top, min(new_bottom, self.document.line_count - 1) + 1)]
        moved.update(highlight_lines(lines, self._lexer, top))
        self._highlights.clear()
        self._highlights.update(moved)
        # rows below the edit move when it adds or removes lines: repaint down to the view's end
        last = new_bottom if delta == 0 else max(self.document.line_count, self.scroll_offset.y + self.size.height)
        self._forget_rows(range(top, last + 1))
        self._schedule_highlight(FULL_HIGHLIGHT_DELAY)

    def _schedule_highlight(self, delay: float) -> None:
        if not self._ready:
            return
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        self._highlight_timer = self.set_timer(delay, self._start_highlight) if delay else None
        if not delay:
            self._start_highlight()

    def _start_highlight(self) -> None:
        self._highlight_timer = None
        self._full_highlight(self.text, self._doc_version)

    @work(thread=True, exclusive=True, group="highlight", exit_on_error=False)
    def _full_highlight(self, text: str, version: int) -> None:
        result = highlight(text, self._lexer)
        try:
            self.app.call_from_thread(self._apply_highlight, result, version)
        except Exception:  # the app is closing
            pass

    def _apply_highlight(self, result: Highlights, version: int) -> None:
        if version != self._doc_version:
            return
        old = self._highlights
        changed = [row for row in set(old) | set(result) if (old.get(row) or []) != (result.get(row) or [])]
        old.clear()
        old.update(result)
        self.highlight_version = version
        if changed:
            self._forget_rows(range(min(changed), max(changed) + 1))

    @property
    def highlighted(self) -> bool:
        return self.highlight_version == self._doc_version

    # -- drawing locked lines ------------------------------------------------------------------
    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        if not self.tracker.is_editable_row(line_index):
            line.stylize(LOCKED_STYLE)
        return line

    def _render_line(self, y: int) -> Strip:
        strip = super()._render_line(y)
        if not self.show_line_numbers:
            return strip
        try:
            line_index, section = self.wrapped_document._offset_to_line_info[y + self.scroll_offset.y]
        except (IndexError, TypeError):
            return strip
        width = self.gutter_width
        if width < 3 or strip.cell_length < width:
            return strip
        gutter, rest = strip.divide([width, strip.cell_length])[:2]
        segments = list(gutter)
        base = segments[0].style if segments else None
        text = "".join(s.text for s in segments)
        editable = self.tracker.is_editable_row(line_index)
        mark = EDITABLE_MARK if editable else LOCKED_MARK
        component = "guarded-editor--editable-mark" if editable else "guarded-editor--locked-mark"
        mark_style = self.get_component_rich_style(component, partial=True)
        number_style = (base + LOCKED_STYLE) if (base and not editable) else base
        new_gutter = Strip(
            [
                Segment(text[: width - 2], number_style),
                Segment(mark if section == 0 or editable else " ", (base + mark_style) if base else mark_style),
                Segment(" ", base),
            ],
            width,
        )
        return Strip.join([new_gutter, rest])

    def legend(self) -> str:
        legend = f"{EDITABLE_MARK} editable {editable_ranges_text(self.ranges)}  {LOCKED_MARK} fixed"
        problem = self.compile_problem
        if problem is not None:
            legend += f" · ✗ line {problem.line}: {problem.message}"
        return legend
