"""Two replays side by side: tests beside tests, the final tables joined."""

from __future__ import annotations

import os

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from sessions.leaderboard import format_value, published_rows
from sessions.replay.compare import Comparison, MetricRow
from sessions.replay.model import Replay, Step
from sessions.replay.render import step_lines
from tasks.spec import TaskSpec
from tui.screens.replay import ReplayScreen
from tui.widgets.timeline import short_summary


def side_name(replay: Replay, other: Replay) -> str:
    name = replay.who or os.path.basename(replay.path.rstrip("/")) or replay.path
    if name == (other.who or os.path.basename(other.path.rstrip("/")) or other.path):
        name += f" ({os.path.basename(replay.path.rstrip('/'))})"
    return name


def compare_final_table(cmp: Comparison, task: TaskSpec | None, name_a: str, name_b: str) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", expand=False)
    published = published_rows(task) if task is not None else []
    table.add_column("metric", no_wrap=True)
    table.add_column("A", justify="right", no_wrap=True)
    table.add_column("B", justify="right", no_wrap=True)
    table.add_column("better", justify="center")
    for row in published:
        table.add_column(row.entry, justify="right", no_wrap=True)

    def cell(r: MetricRow, side: str) -> Text:
        value = (r.a if side == "a" else r.b) or "-"
        return Text(value, style="bold green" if r.better == side else "")

    for r in cmp.final:
        better = {"a": "A", "b": "B", "=": "="}.get(r.better or "", "")
        table.add_row(r.metric, cell(r, "a"), cell(r, "b"), better,
                      *(format_value(p.values.get(r.metric)) for p in published))
    return table


class CompareScreen(Screen):
    """Two replays side by side: tests beside tests, final tables joined."""

    BINDINGS = [
        Binding("a", "open('a')", "Open A"),
        Binding("b", "open('b')", "Open B"),
        Binding("t", "toggle_text", "Free text"),
    ]

    def __init__(self, cmp: Comparison, task: TaskSpec | None = None, *, interval: float = 1.0,
                 recompare=None) -> None:
        super().__init__()
        self.cmp = cmp
        self.spec = task
        self.interval = interval
        self.recompare = recompare  # include_text -> Comparison, for the free-text toggle
        self.include_text = False

    def compose(self) -> ComposeResult:
        a, b = self.cmp.a, self.cmp.b
        self.name_a, self.name_b = side_name(a, b), side_name(b, a)
        yield Static("", id="compare-title")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="compare-detail"):
            with VerticalScroll(id="compare-detail-a"):
                yield Static("", id="compare-step-a")
            with VerticalScroll(id="compare-detail-b"):
                yield Static("", id="compare-step-b")
        yield Static("", id="compare-final")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#compare-table", DataTable).focus()

    def _fill(self) -> None:
        cmp = self.cmp
        task = cmp.a.task_id or cmp.b.task_id or "unknown task"
        if cmp.a.task_id and cmp.b.task_id and cmp.a.task_id != cmp.b.task_id:
            task = f"{cmp.a.task_id} vs {cmp.b.task_id}"
        self.query_one("#compare-title", Static).update(
            Text(f"Compare: {task} · A {self.name_a} ({len(cmp.a.steps)} steps) · "
                 f"B {self.name_b} ({len(cmp.b.steps)} steps)", no_wrap=True, overflow="ellipsis", style="bold"))
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        table.add_column("", key="kind", width=2)
        table.add_column(f"A: {self.name_a}", key="a")
        table.add_column(f"B: {self.name_b}", key="b")
        for i, row in enumerate(cmp.rows):
            table.add_row(row.a.icon if row.a else row.b.icon, self._cell(row.a), self._cell(row.b), key=str(i))
        final = self.query_one("#compare-final", Static)
        if cmp.final:
            note = cmp.protocol_note()
            final.update(Group(Text("Final results", style="bold"),
                               *([Text(note, style="yellow")] if note else []),
                               compare_final_table(cmp, self.spec, self.name_a, self.name_b)))
        else:
            final.update(Text("No final results on either side.", style="dim"))
        if cmp.rows:
            self._show_row(0)

    def _cell(self, step: Step | None) -> Text:
        if step is None:
            return Text("")
        return Text(f"{step.index:>3} {short_summary(step)}", no_wrap=True, overflow="ellipsis")

    def _show_row(self, i: int) -> None:
        row = self.cmp.rows[i]
        for side, step in (("a", row.a), ("b", row.b)):
            widget = self.query_one(f"#compare-step-{side}", Static)
            if step is None:
                widget.update(Text("(nothing here on this side)", style="dim"))
            else:
                widget.update(Text("\n".join(step_lines(step, 3))))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self._show_row(int(event.row_key.value))

    def action_open(self, side: str) -> None:
        replay = self.cmp.a if side == "a" else self.cmp.b
        screen = ReplayScreen(replay, getattr(self.app, "task_for", lambda r: self.spec)(replay), interval=self.interval)
        self.app.push_screen(screen)

    def action_toggle_text(self) -> None:
        if self.recompare is None:
            return
        self.include_text = not self.include_text
        self.cmp = self.recompare(self.include_text)
        self._fill()
