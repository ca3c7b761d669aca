"""The final table (after submit) and the leaderboard (one profile at a time)."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, Tab, Tabs

from sessions.leaderboard import YOURS, Row, build_board, profile_note, ranked_with
from sessions.settings import NO_NAME
from tasks.spec import PROFILES
from tui.board_fit import fit_board
from tui.model import best_values, metric_columns, to_number

SCREEN_CSS = """
ResultsScreen { layout: vertical; }
ResultsScreen .screen-title { height: auto; padding: 0 1; background: $panel; text-style: bold; }
ResultsScreen .note { height: auto; padding: 0 1; color: $text-muted; }
ResultsScreen .note.warning { color: $text-warning; }
ResultsScreen DataTable { height: auto; max-height: 60%; margin: 1 1 0 1; }
ResultsScreen .feedback { height: 1fr; margin: 1 1 0 1; border: round $panel-lighten-1; padding: 0 1; }
ResultsScreen Tabs { margin: 0 1; }
"""


TABLE_GUTTER = 4  # the table's margins (1 + 1) and a vertical scrollbar (2)


class ResultsScreen(Screen):
    """A board as a table that fits the width (columns give way: see tui.board_fit)."""

    DEFAULT_CSS = SCREEN_CSS
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]
    TABLE = ""  # the DataTable's selector

    def __init__(self) -> None:
        super().__init__()
        self._filled: tuple | None = None  # what the table shows: (metric columns, rows, ranks, you_detail)
        self._fitted_to = 0

    def fill(self, columns, rows, ranks, you_detail: str | None = None) -> None:
        self._filled = (columns, rows, ranks, you_detail)
        self._fitted_to = self.size.width
        table = self.query_one(self.TABLE, DataTable)
        fitted = fit_board(columns, rows, ranks, max(40, self.size.width - TABLE_GUTTER))
        directions = {c.name: c.direction for c in columns}
        best = best_values(rows, directions)
        table.clear(columns=True)
        for column in fitted.columns:
            table.add_column(column.heading, key=column.key)
        for i, row in enumerate(rows):
            mine = row.entry == "you" or (you_detail is not None and you_detail in row.detail)
            base = "bold reverse" if mine else ""
            cells = []
            for column in fitted.columns:
                value = row.values.get(column.key) if column.key in directions else None
                best_here = value is not None and best.get(column.key) == value and len(rows) > 1
                cells.append(Text(column.cells[i], style=(base + (" green" if best_here else "")).strip()))
            table.add_row(*cells)
        if not rows:
            table.add_row("", "(no entries yet for this profile)")
        note = self.query_one("#fit-note", Static)
        note.update(fitted.note)
        note.display = bool(fitted.note)

    def on_resize(self) -> None:
        if self._filled is not None and self.size.width != self._fitted_to:
            self.fill(*self._filled)


class FinalResultsScreen(ResultsScreen):
    BINDINGS = [Binding("f3,ctrl+l", "app.leaderboard", "Leaderboard")]
    TABLE = "#final-table"

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session
        self.board = session_board(session, session.profile)

    def compose(self) -> ComposeResult:
        session = self.session
        task = session.task
        sub = session.state.submission
        n = sub.key.n if sub else "?"
        yield Static(f"Final results · {task.id} · {player(session)} · submitted test #{n} · profile {session.profile} "
                     f"· seed {session.seed}", classes="screen-title")
        hidden = ", ".join(c.name for c in metric_columns(task, hidden=True)) or "none"
        yield Static(f"Visible results come from test #{n}; hidden settings ran now on its code ({hidden}). "
                     f"You are ranked among the rows of profile {session.profile} only, by mean rank over the "
                     "metrics (1 = best).", classes="note")
        yield Static(profile_note(self.board), classes="note" + ("" if self.board.comparable else " warning"))
        yield Static(" · ".join(session.state.work.lines()), id="work-time", classes="note")
        yield DataTable(id="final-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="fit-note", classes="note")
        with VerticalScroll(classes="feedback"):
            yield Static(Text((sub.feedback if sub else None) or ""), id="final-feedback")
        yield Footer()

    def on_mount(self) -> None:
        rows, ranks = self.board.rows, self.board.ranks
        if not any(self._mine(r) for r in rows):  # not in the sessions folder the board reads
            ranked = ranked_with(self.board, you_row(self.session))
            rows, ranks = ranked.rows, ranked.ranks
        self.fill(metric_columns(self.session.task), rows, ranks, you_detail=f"session {self.session.id},")

    def _mine(self, row) -> bool:
        return f"session {self.session.id}," in row.detail


class LeaderboardScreen(ResultsScreen):
    """The board of one profile at a time (tabs): baselines, agents and people, with provenance."""

    TABLE = "#board-table"

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session
        self.shown: str | None = None

    def compose(self) -> ComposeResult:
        task = self.session.task
        yield Static(f"Leaderboard · {task.id} · {task.title}", classes="screen-title")
        yield Tabs(*(Tab(p, id=f"profile-{p}") for p in PROFILES if p in task.profiles), id="profiles",
                   active=f"profile-{self.session.profile}")
        yield Static("", id="board-note", classes="note")
        yield DataTable(id="board-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="fit-note", classes="note")
        yield Footer()

    def on_mount(self) -> None:
        self.show_profile(self.session.profile)

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id:
            self.show_profile(event.tab.id.removeprefix("profile-"))

    def show_profile(self, profile: str) -> None:
        if profile == self.shown:
            return
        self.shown = profile
        board = session_board(self.session, profile)
        counts = Counter(r.provenance for r in board.rows)
        note = f"{self.session.task.profiles[profile].summary} {profile_note(board)} " + (
            ", ".join(f"{count} {what}" for what, count in counts.items()) or "No entries yet.")
        note_widget = self.query_one("#board-note", Static)
        note_widget.update(note)
        note_widget.set_class(not board.comparable, "warning")
        self.fill(metric_columns(self.session.task), board.rows, board.ranks, you_detail=f"session {self.session.id},")


def session_board(session, profile: str):
    """The board of `profile` as a session sees it: its sessions folder, and the agents in MLSBENCH_AGENTS."""
    return build_board(session.task, session.dir.parent.parent, profile)


def player(session) -> str:
    return session.meta.get("person") or NO_NAME


def you_row(session) -> Row:
    sub = session.state.submission
    return Row(f"person:{player(session)}", "person", {k: to_number(v) for k, v in session.final_results().items()},
               f"session {session.id}, test #{sub.key.n if sub else '?'}", YOURS, str(session.seed))
