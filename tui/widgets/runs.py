"""One setting of the current run: status, progress, the raw log, its metrics and curves.

The log is read from the setting's log file on disk (`FileLog`): the whole of it
scrolls, and nothing is buffered. The plot redraws at most a few times a second,
and only while it is on screen.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from sessions.events import QUEUED, RUNNING, RunKey
from tasks.spec import TaskSpec
from tui.ghosts import TOGGLE_KEY, SettingGhosts
from tui.model import (
    PREFLIGHT,
    Curve,
    baseline_levels,
    eta_text,
    number_text,
    plot_keys,
    series,
    status_text,
    x_key,
)
from tui.widgets.chart import Chart, ChartPlot, PlotLine
from tui.widgets.file_log import INDEX_BUDGET, TYPING_BUDGET, FileLog

TABLE_ROWS = 12  # latest metrics rows kept for the table (the plot has them all)
PLOT_INTERVAL = 1.0  # seconds between plot redraws while data arrives
TABLE_INTERVAL = 0.5  # seconds between metrics-table redraws
PROGRESS_INTERVAL = 0.5  # seconds between progress-bar redraws while a setting runs
TYPING_HOLD = 2.0  # seconds the table and the plot may wait while the person types
PLOT_COLORS = ("cyan", "gray", "green", "magenta", "orange", "red", "blue")
NO_TEST = "· no test yet"  # the status of a setting that has not run in this session


def baseline_marks(levels: list[tuple[str, float]]) -> tuple[tuple[tuple[float, str], ...], str]:
    """The baselines as horizontal lines of a plot, (value, colour) with the colours after
    the current and the previous curve's, and the legend's note naming them."""
    marks = tuple((value, PLOT_COLORS[2 + i % (len(PLOT_COLORS) - 2)]) for i, (_, value) in enumerate(levels))
    return marks, "lines: " + ", ".join(f"{entry} {value:g}" for entry, value in levels)


def _cell(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    if float(value).is_integer() and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.6g}"


def _fit(cell: str, width: int) -> str:
    return cell.rjust(width) if len(cell) <= width else cell[: width - 1] + "…"


def metrics_text(rows: list[dict[str, float]], height: int, width: int,
                 ghosts: list[tuple[str, dict[str, float]]] | None = None) -> Text:
    """The last `height` rows as right-aligned columns under a bold header, the widest
    columns cut with "…" to fit `width`; with `ghosts` (name, final row), a first column
    names the rows and the ghosts' final rows come last, dimmed. Plain text: a Rich Table
    costs several times more to draw, and this one is redrawn while logs stream."""
    ghosts = ghosts or []
    keys: list[str] = []
    for row in rows or [g for _, g in ghosts]:
        keys.extend(k for k in row if k not in keys)
    mine = rows[-max(1, height - len(ghosts)):] if rows else []
    named = [("", row) for row in mine] + list(ghosts)
    cells = [[_cell(row[k]) if k in row else "" for k in keys] for _, row in named]
    if ghosts:
        keys = ["", *keys]
        cells = [[name, *line] for (name, _), line in zip(named, cells)]
    widths = [max(len(key), *(len(line[i]) for line in cells)) for i, key in enumerate(keys)]
    while sum(widths) + 2 * (len(widths) - 1) > width and max(widths) > 3:
        widths[widths.index(max(widths))] -= 1
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append("  ".join(_fit(key, w) for key, w in zip(keys, widths)), style="bold")
    for i, line in enumerate(cells):
        style = "dim" if i >= len(mine) else ""
        text.append("\n" + "  ".join(_fit(cell, w) for cell, w in zip(line, widths)), style=style)
    return text


class SettingPanel(Vertical):
    DEFAULT_CSS = """
    SettingPanel { height: 1fr; }
    SettingPanel .status-row { height: 1; }
    SettingPanel #status { width: 20; padding: 0 1 0 0; }
    SettingPanel #status.failed { color: $text-error; text-style: bold; }
    SettingPanel #status.done { color: $text-success; }
    SettingPanel #status.running { color: $text-accent; }
    SettingPanel #status.preflight { color: $text-warning; }
    SettingPanel ProgressBar { width: auto; padding: 0 1 0 0; }
    SettingPanel ProgressBar Bar { width: 24; }
    SettingPanel #progress-text { width: 1fr; color: $text-muted; }
    SettingPanel .body { height: 1fr; }
    SettingPanel FileLog { width: 1fr; height: 1fr; border: none; }
    SettingPanel .side { width: 42%; height: 1fr; }
    SettingPanel ChartPlot { height: 2fr; min-height: 5; }
    SettingPanel #plot-legend { height: 1; color: $text-muted; padding: 0 1; }
    SettingPanel #metrics { height: 1fr; min-height: 3; max-height: 9; padding: 0 1; overflow: hidden; text-wrap: nowrap; }
    """

    BINDINGS = [Binding("m", "next_metric", "Plot next metric", show=False)]

    def __init__(self, label: str, task: TaskSpec, *, profile: str, show_baselines: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.spec = task
        self.spec_profile = profile
        self.show_baselines = show_baselines
        self.run_key: RunKey | None = None
        self.status = QUEUED
        self.curve = Curve()
        self.previous: list[dict[str, float]] = []
        self.previous_name = ""
        self.unit: str | None = None
        self._table_rows: deque[dict[str, float]] = deque(maxlen=TABLE_ROWS)
        self._table_dirty = False
        self._plot_dirty = True
        self._last_plot = 0.0
        self._metric_index = 0
        self._progress_text = ""
        self._legend = ""
        self._last_table = 0.0
        self._last_progress = 0.0
        self.progress: tuple[float, float, str, float | None] | None = None
        self.progress_at = 0.0  # monotonic time the progress arrived (its ETA counts from then)
        self._progress_dirty = False
        self.preflight = ""  # what the preflight check running now is for ("test #2"), else ""
        self.ghosts: SettingGhosts | None = None  # None: not read yet
        self.ghosts_shown = True

    def compose(self) -> ComposeResult:
        with Horizontal(classes="status-row"):
            yield Static(NO_TEST, id="status")
            yield ProgressBar(total=1, show_eta=False, show_percentage=True, id="progress")
            yield Static("F5 runs a test", id="progress-text")
        with Horizontal(classes="body"):
            yield FileLog(id="log")
            with Vertical(classes="side"):
                yield ChartPlot(id="plot")
                yield Static("", id="plot-legend")
                yield Static("", id="metrics")

    def on_mount(self) -> None:
        self.query_one("#plot", ChartPlot).can_focus = False
        if self.preflight:
            self._draw_preflight()
        elif self.run_key is None:
            self.log_view.show_message("No test yet: F5 runs one, and its output streams here.")
        self._draw_plot()

    def on_resize(self) -> None:
        self._table_dirty = True  # its columns are fitted to the width (drawn before the first layout: 80)

    # -- a new run -----------------------------------------------------------------------
    @property
    def log_view(self) -> FileLog:
        return self.query_one("#log", FileLog)

    @property
    def lines_seen(self) -> int:
        """Lines of the run's log indexed so far."""
        return self.log_view.line_count if self.run_key is not None else 0

    def start_run(self, key: RunKey, log: Path, previous: list[dict[str, float]] | None = None,
                  previous_name: str = "") -> None:
        """Show a run: its log is read from `log` as it grows."""
        self.run_key = key
        self.status = QUEUED
        self.preflight = ""  # (the run started: its preflight passed)
        self.curve = Curve()
        self.previous = previous or []
        self.previous_name = previous_name
        self.unit = None
        self.log_view.show_file(log)
        self._table_rows.clear()
        self._table_dirty = True
        self.set_status(QUEUED)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=1, progress=0)
        self.progress, self._progress_dirty = None, False
        self._progress_text = str(key)
        self.query_one("#progress-text", Static).update(str(key), layout=False)
        self._plot_dirty = True
        self._draw_plot()

    def set_previous(self, rows: list[dict[str, float]], name: str) -> None:
        self.previous, self.previous_name = rows, name
        self._plot_dirty = True

    def set_waiting(self, text: str) -> None:
        """Why the setting has not started, beside its status (its progress replaces it)."""
        self._progress_text = text
        self.query_one("#progress-text", Static).update(text, layout=False)

    def note(self, line: str) -> None:
        """A line of the app's own (why it waits, what it follows): in the log view while it
        shows no log file, else beside the status (the view shows only the file)."""
        view = self.log_view
        if view.path is None:
            view.show_message("\n".join([*view.message, f"[{line}]"]))
        else:
            self.set_waiting(line)

    # -- the preflight check before a run ------------------------------------------------
    def show_preflight(self, what: str) -> None:
        """The preflight for `what` runs: the status says so (a panel with no run yet
        says it in its log too, instead of "No test yet")."""
        self.preflight = what
        if self.is_mounted:
            self._draw_preflight()  # (else on_mount draws it)

    def _draw_preflight(self) -> None:
        what = self.preflight
        widget = self.query_one("#status", Static)
        widget.update(status_text(PREFLIGHT), layout=False)
        widget.set_classes(PREFLIGHT)
        self.query_one("#progress-text", Static).update(f"preflight check for {what}…", layout=False)
        if self.run_key is None:
            self.log_view.show_message("")
            self.note(f"The preflight check for {what} runs; the setting starts when it passes "
                      "(nothing is spent if it refuses).")

    def end_preflight(self) -> None:
        """The preflight ended: the panel shows its own run's status again."""
        if not self.preflight:
            return
        what, self.preflight = self.preflight, ""
        if not self.is_mounted:
            return
        if self.run_key is None:  # its log said the preflight runs: say how it ended
            self.query_one("#status", Static).update(NO_TEST, layout=False)
            self.query_one("#status", Static).set_classes("")
            self.note(f"The preflight check for {what} did not pass: nothing ran, nothing was spent "
                      "(the message says why).")
        else:
            self.set_status(self.status)
        self.query_one("#progress-text", Static).update(self._progress_text or "F5 runs a test", layout=False)

    # -- ghosts: opponents' curves ----------------------------------------------------------
    def set_ghosts(self, ghosts: SettingGhosts) -> None:
        self.ghosts = ghosts
        self._redraw()

    def show_ghosts(self, shown: bool) -> None:
        self.ghosts_shown = shown
        self._redraw()

    def _redraw(self) -> None:
        """Plot and table again now, shown or not (as a run loaded from disk is): cheap, the
        figure is built off the UI thread."""
        if self.is_mounted:
            self._draw_plot()
            self._draw_table()
        else:
            self._plot_dirty = self._table_dirty = True

    # -- events ---------------------------------------------------------------------------
    def set_status(self, status: str, exit_code: int | None = None, detail: str = "") -> None:
        self.status = status
        widget = self.query_one("#status", Static)
        widget.update(status_text(status, exit_code, detail), layout=False)
        widget.set_classes(status)

    def set_progress(self, done: float, total: float, unit: str, eta: float | None) -> None:
        """Remember the newest progress; it is drawn on the next tick while the panel is shown."""
        self.unit = unit or self.unit
        self.progress = (done, total, unit, eta)
        self.progress_at = time.monotonic()
        self._progress_dirty = True

    def _draw_progress(self) -> None:
        self._progress_dirty = False
        if self.progress is None:
            return
        done, total, unit, eta = self.progress
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(total, 1e-9), progress=min(done, total))
        pieces = [f"{unit or 'step'} {number_text(done)}/{number_text(total)}"]
        if eta is not None and self.status == RUNNING and done < total:
            pieces.append(eta_text(eta))
        if self.run_key is not None:
            pieces.append(str(self.run_key))
        text = " · ".join(pieces)
        if text != self._progress_text:
            self._progress_text = text
            self.query_one("#progress-text", Static).update(text, layout=False)

    def add_metrics(self, rows: list[dict[str, float]]) -> None:
        if not rows:
            return
        self.curve.add(rows)
        self._plot_dirty = True
        self._table_rows.extend(rows[-TABLE_ROWS:])
        self._table_dirty = True

    @property
    def drawn(self) -> bool:
        """Everything that arrived is on screen (the plot's figure included)."""
        return not (self._plot_dirty or self._table_dirty) and self.query_one("#plot", ChartPlot).settled

    @property
    def table_rows(self) -> list[dict[str, float]]:
        return list(self._table_rows)

    def _draw_table(self) -> None:
        """The latest metrics rows as a small table (a Static: no layout work while streaming)."""
        self._table_dirty = False
        widget = self.query_one("#metrics", Static)
        rows = list(self._table_rows)
        height = max(1, widget.size.height - 1) if widget.size.height else TABLE_ROWS
        width = widget.content_size.width or 80
        ghosts = self.ghosts.table_rows() if self.ghosts and self.ghosts_shown else []
        widget.update(metrics_text(rows, height, width, ghosts) if rows or ghosts else "", layout=False)

    def load_history(self, rows: list[dict[str, float]]) -> None:
        """Show a finished run's metrics, read from disk (its log is read by the log view)."""
        self.add_metrics(rows)
        self._draw_plot()
        self._draw_table()

    # -- the plot -------------------------------------------------------------------------
    def action_next_metric(self) -> None:
        self._metric_index += 1
        self._plot_dirty = True
        self._draw_plot()

    def tick(self, visible: bool, typing: bool = False) -> None:
        """Draw what arrived. While the setting runs, a frame gets the log and the progress,
        or the table: a key pressed meanwhile waits for one of them, not for all; and while
        the person types (`typing`) the table and the plot wait for a pause (at most
        TYPING_HOLD seconds). Once it has ended, everything left is drawn at once."""
        if not visible:
            return
        now = time.monotonic()
        streaming = self.status == RUNNING
        hold = TYPING_HOLD if typing else 0.0
        if self._plot_dirty and (not streaming or now - self._last_plot >= max(hold, PLOT_INTERVAL)):
            self._draw_plot()  # cheap here: the figure is built by a worker thread
        if self._table_dirty and (not streaming or now - self._last_table >= max(hold, TABLE_INTERVAL)):
            self._last_table = now
            self._draw_table()
            if streaming:
                return  # the log waits for the next tick
        self.log_view.poll(TYPING_BUDGET if typing else INDEX_BUDGET)  # typing: the index catches up later
        if self._progress_dirty and (not streaming or now - self._last_progress >= PROGRESS_INTERVAL):
            self._last_progress = now
            self._draw_progress()

    def _ghost_legend(self) -> str:
        if self.ghosts is None:
            return ""
        if not self.ghosts.lines:
            return self.ghosts.note(self.spec_profile)
        if not self.ghosts_shown:
            return f"{TOGGLE_KEY}: show {len(self.ghosts.lines)} ghost(s)"
        return f"{self.ghosts.note(self.spec_profile)} ({TOGGLE_KEY} hides)"

    def _set_legend(self, text: str) -> None:
        if text != self._legend:
            self._legend = text
            self.query_one("#plot-legend", Static).update(Text(text, no_wrap=True, overflow="ellipsis"), layout=False)

    def _draw_plot(self) -> None:
        try:
            plot = self.query_one("#plot", ChartPlot)
        except Exception:
            return
        self._plot_dirty = False
        self._last_plot = time.monotonic()
        rows = self.curve.points
        ghosts = self.ghosts.lines if self.ghosts and self.ghosts_shown else ()
        known = rows or self.previous or (ghosts[0].rows if ghosts else [])
        x = x_key(known, self.unit)
        keys = plot_keys(self.spec, self.label, known, x)
        if not keys:
            self._set_legend(self._ghost_legend())
            plot.show(Chart(f"{self.label}: no metrics yet"))
            return
        key = keys[self._metric_index % len(keys)]
        most = 2 * max(plot.size.width, 40)
        lines: list[PlotLine] = []
        legend: list[str] = []
        for ghost in ghosts:  # first: the person's own curves are drawn over them
            xs, ys = series(ghost.rows, key, x, max_points=most)
            if xs:
                lines.append(PlotLine(tuple(xs), tuple(ys), ghost.colour, ghost.name))
        if self.previous:
            xs, ys = series(self.previous, key, x, max_points=most)
            if xs:
                lines.append(PlotLine(tuple(xs), tuple(ys), "gray", self.previous_name or "previous"))
                legend.append(f"grey: {self.previous_name or 'previous'}")
        xs, ys = series(rows, key, x, max_points=most)
        if xs:
            lines.append(PlotLine(tuple(xs), tuple(ys), "cyan", str(self.run_key) if self.run_key else "now"))
            legend.append(f"cyan: {self.run_key}")
        levels = baseline_levels(self.spec, self.label, key) if lines else []
        shown_levels: tuple[tuple[float, str], ...] = ()
        if self.show_baselines and levels:
            shown_levels, note = baseline_marks(levels)
            legend.append(note)
        elif levels and not ghosts:
            legend.append("published baselines: paper profile only")
        legend.append(self._ghost_legend())
        legend = [part for part in legend if part]
        if len(keys) > 1:
            legend.append("m: next metric")
        self._set_legend(" · ".join(legend))
        plot.show(Chart(key, x or "", tuple(lines), shown_levels))
