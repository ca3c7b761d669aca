"""Test history: every test's results side by side, and what each changed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from tui.diffs import diff_of_test
from tui.model import metric_columns, run_state_word, to_number, value_text


def diff_text(lines: list[str]) -> Text:
    out = Text()
    for line in lines:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append(line + "\n", style=style)
    return out


def notes_text(notes: list) -> Text:
    """The person's notes (sessions.notes.Note), each under the step it was written at."""
    out = Text("\nNotes", style="bold")
    out.append(" · ctrl+r writes one at the step the session is at\n", style="dim")
    for note in notes:
        out.append(f"\n{note.step} · {note.time[:16].replace('T', ' ')}\n", style="italic cyan")
        out.append(note.text + "\n")
    return out


class HistoryPanel(Horizontal):
    DEFAULT_CSS = """
    HistoryPanel { height: 1fr; }
    HistoryPanel DataTable { width: 1fr; height: 1fr; }
    HistoryPanel VerticalScroll { width: 1fr; height: 1fr; border-left: tall $panel-lighten-1; padding: 0 1; }
    """

    def __init__(self, session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._shown: int | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="diff-scroll"):
            yield Static("No test yet: each test's changes to the editable lines appear here.", id="diff")
            yield Static(id="notes")

    def on_mount(self) -> None:
        self.refresh_tests()
        self.refresh_notes()

    def refresh_notes(self) -> None:
        """The person's notes, in the order they were written."""
        from sessions.notes import session_notes

        self.query_one("#notes", Static).update(notes_text(session_notes(self.session.journal.entries)))

    def refresh_tests(self) -> None:
        session = self.session
        table = self.query_one("#history-table", DataTable)
        columns = metric_columns(session.task, hidden=False)
        table.clear(columns=True)
        table.add_column("test", key="test")
        table.add_column("state", key="state")
        for c in columns:
            table.add_column(c.heading, key=c.name)
        tests = list(session.state.tests)
        best: dict[str, float] = {}
        for c in columns:
            values = [to_number(t.results().get(c.name)) for t in tests]
            values = [v for v in values if v is not None]
            if values:
                best[c.name] = max(values) if c.direction == "max" else min(values)
        submitted = session.state.submitted_test
        for record in tests:
            results = record.results()
            cells = []
            for c in columns:
                value = to_number(results.get(c.name))
                style = "bold green" if value is not None and best.get(c.name) == value and len(tests) > 1 else ""
                cells.append(Text(results.get(c.name, value_text(None)), style=style))
            name = f"#{record.key.n}" + (" ★ submitted" if submitted == record.key.n else "")
            table.add_row(name, run_state_word(record), *cells, key=str(record.key.n))
        if tests:
            n = self._shown if self._shown and self._shown <= len(tests) else len(tests)
            table.move_cursor(row=n - 1)
            self.show_diff(n)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self.show_diff(int(event.row_key.value))

    def show_diff(self, n: int) -> None:
        self._shown = n
        self.query_one("#diff", Static).update(diff_text(diff_of_test(self.session, n)))
