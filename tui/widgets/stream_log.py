"""A Log for logs that stream as fast as a driver can print."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Log


class StreamLog(Log):
    """A Log for fast streams.

    - the width is measured in the UI thread with len() (C speed) instead of a worker
      thread per write measuring every line's cells;
    - once max_lines is reached, every write drops as many old lines as it adds: the view
      stays at the end with the same scroll offset, so Log repaints nothing and the screen
      would freeze on old lines; this Log repaints itself then;
    - a plain line (no highlighting, no selection) becomes one styled segment instead of
      going through rich Text. Not cached: while the log scrolls every line is drawn once
      or twice, and strips kept for seconds become the cyclic garbage that makes the
      collector's full passes long;
    - the widget's style is worked out once per repaint, not once per line (it walks the
      DOM: half the cost of drawing a screenful of lines).
    """

    _repaint_style: Style | None = None

    @property
    def rich_style(self) -> Style:
        if self._repaint_style is not None:
            return self._repaint_style
        return super().rich_style

    def render_lines(self, crop: Region) -> list[Strip]:
        self._repaint_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._repaint_style = None

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        if lines:
            self._update_maximum_width(updates, max(map(len, lines)))

    def write_lines(self, lines, scroll_end: bool | None = None):  # type: ignore[override]
        full = self.max_lines is not None and len(self._lines) >= self.max_lines
        super().write_lines(lines, scroll_end)
        if full:
            self.refresh()
        return self

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        if self.highlight or self.text_selection is not None:
            return super()._render_line_strip(y, rich_style)
        text = self._process_line(self._lines[y])
        return Strip([Segment(text, rich_style)], cell_len(text))
