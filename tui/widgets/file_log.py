"""A log view that reads its lines from the log file on disk, as toolong does.

The file's line offsets are indexed as it grows (`LineIndex`), and only the lines
on screen are read and drawn, so a finished run's whole log scrolls, however long,
and nothing is copied through buffers while a driver prints. `w` toggles wrapping
long lines; unwrapped, the view scrolls sideways (left/right, shift+wheel).
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sessions.tail import LineIndex

INDEX_BUDGET = 1 << 20  # bytes indexed per poll (a few milliseconds; the rest next poll)
TYPING_BUDGET = 1 << 18  # while the person types: a millisecond or two, so keys stay quick
CACHE_LINES = 512  # lines kept decoded around the screen


class FileLog(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    FileLog { background: $surface; color: $foreground; overflow: auto auto; }
    FileLog:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [Binding("w", "toggle_wrap", "Wrap lines")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index: LineIndex | None = None
        self.message: list[str] = []  # shown when there is no file (yet)
        self.wrap = False
        self._rows = [0]  # wrapped: the first screen row of each line, and the total last
        self._wrap_width = 0
        self._cache: dict[int, str] = {}
        self._repaint_style: Style | None = None
        self._follow = True  # keep the end in view as the file grows (until the person scrolls up)
        self._followed_y = 0  # where following last put the view

    # -- what it shows ----------------------------------------------------------------------
    def show_file(self, path: Path) -> None:
        """Show a log file from its start (following its end while it grows)."""
        self.index, self.message = LineIndex(path), []
        self._reset()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._follow, self._followed_y = True, 0
        self.poll()

    def show_message(self, text: str) -> None:
        self.index, self.message = None, text.splitlines()
        self._reset()
        self._resize()

    @property
    def path(self) -> Path | None:
        return self.index.path if self.index is not None else None

    @property
    def line_count(self) -> int:
        return len(self.index) if self.index is not None else len(self.message)

    @property
    def lines(self) -> list[str]:
        """Every line (read from the file: meant for small logs and tests)."""
        return self.index.lines(0, len(self.index)) if self.index is not None else list(self.message)

    def poll(self, budget: int = INDEX_BUDGET) -> bool:
        """Index what the file gained; the view follows the end unless the person scrolled up
        from it (back at the end, it follows again). Whether the file grew."""
        if self.index is None:
            return False
        if self.scroll_y < self._followed_y:
            self._follow = False
        if self.scroll_y >= self.max_scroll_y:
            self._follow = True
        before, fitted = len(self.index), self.virtual_size.height <= self.size.height
        if not self.index.update(budget):
            return False
        self._cache.pop(before - 1, None)  # the last line may have been a part line
        self._resize()
        if self._follow:
            self._to_end()
            if fitted:  # a scrollbar may appear: the end moves once the new size is laid out
                self.call_after_refresh(self._to_end)
        return True

    def _to_end(self) -> None:
        if self._follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            self._followed_y = self.scroll_y

    def _reset(self) -> None:
        self._cache.clear()
        self._rows, self._wrap_width = [0], 0
        self.refresh()

    # -- wrapping ---------------------------------------------------------------------------
    def action_toggle_wrap(self) -> None:
        top, at_end = self._line_at(self.scroll_offset.y), self.scroll_y >= self.max_scroll_y
        self.wrap = not self.wrap
        self._rows, self._wrap_width = [0], 0
        self._resize()
        y = self.max_scroll_y if at_end else self._rows[top] if self.wrap else top
        self.scroll_to(0, y, animate=False, immediate=True)
        self._followed_y = self.scroll_y
        self.notify("log lines wrap" if self.wrap else "log lines unwrapped: left/right scroll sideways",
                    timeout=2)

    def on_resize(self) -> None:
        if self.wrap:
            self._resize()
        if self._follow:  # shown before it had its size (a hidden tab, the first layout): its end now
            self.call_after_refresh(self._to_end)

    def _width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _length(self, line: int) -> int:
        return self.index.length(line) if self.index is not None else len(self.message[line]) + 1

    def _extend_rows(self) -> None:
        """Screen rows of each line at the current width (a line of n bytes: ceil(n / width))."""
        width = self._width()
        if width != self._wrap_width:
            self._rows, self._wrap_width = [0], width
        rows, total = self._rows, self._rows[-1]
        for line in range(len(rows) - 1, self.line_count):
            total += max(1, -(-(self._length(line) - 1) // width))
            rows.append(total)

    def _resize(self) -> None:
        if self.wrap:
            self._extend_rows()
            self.virtual_size = Size(self._width(), self._rows[-1])
        else:
            widest = self.index.widest if self.index is not None else max(map(len, self.message), default=0)
            self.virtual_size = Size(widest + 1, self.line_count)
        self.refresh()

    def _line_at(self, row: int) -> int:
        """The line shown at a screen row of the whole view."""
        if not self.wrap:
            return row
        return max(0, bisect_right(self._rows, row) - 1)

    # -- drawing ----------------------------------------------------------------------------
    def _text(self, line: int) -> str:
        text = self._cache.get(line)
        if text is not None:
            return text
        if self.index is None:
            return self.message[line] if line < len(self.message) else ""
        if len(self._cache) > CACHE_LINES:
            self._cache.clear()
        first = max(0, line - 8)
        for i, text in enumerate(self.index.lines(first, line + self.size.height + 8), start=first):
            self._cache[i] = text.expandtabs()
        return self._cache.get(line, "")

    def render_lines(self, crop: Region) -> list[Strip]:
        # the widget's style is worked out once per repaint, not once per line: it walks
        # the DOM, which costs as much as drawing the line itself
        self._repaint_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._repaint_style = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row, width, style = scroll_y + y, self.size.width, self._repaint_style or self.rich_style
        line = self._line_at(row)
        if line >= self.line_count:
            return Strip.blank(width, style)
        text = self._text(line)
        if self.wrap:
            piece = row - self._rows[line]
            text = text[piece * self._wrap_width : (piece + 1) * self._wrap_width]
            scroll_x = 0
        return Strip([Segment(text, style)]).crop_extend(scroll_x, scroll_x + width, style)
