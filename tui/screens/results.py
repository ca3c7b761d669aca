"""The final table (after submit) and the leaderboard (one profile at a time)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, Tab, Tabs

from sessions.leaderboard import build_board
from tasks.spec import PROFILES
from tui.model import best_values, final_rows, mean_ranks, metric_columns, value_text

SCREEN_CSS = """
ResultsScreen { layout: vertical; }
ResultsScreen .screen-title { height: auto; padding: 0 1; background: $panel; text-style: bold; }
ResultsScreen .note { height: auto; padding: 0 1; color: $text-muted; }
ResultsScreen .note.warning { color: $text-warning; }
ResultsScreen DataTable { height: auto; max-height: 60%; margin: 1 1 0 1; }
ResultsScreen .feedback { height: 1fr; margin: 1 1 0 1; border: round $panel-lighten-1; padding: 0 1; }
ResultsScreen Tabs { margin: 0 1; }
"""


def _fill(table: DataTable, columns, rows, ranks, you_detail: str | None = None) -> None:
    directions = {c.name: c.direction for c in columns}
    best = best_values(rows, directions)
    table.clear(columns=True)
    table.add_column("#", key="place")
    table.add_column("entry", key="entry")
    for c in columns:
        table.add_column(c.heading, key=c.name)
    table.add_column("mean rank", key="rank")
    table.add_column("detail", key="detail")
    for place, (row, rank) in enumerate(zip(rows, ranks), start=1):
        mine = row.entry == "you" or (you_detail is not None and you_detail in row.detail)
        base = "bold reverse" if mine else ""
        cells = []
        for c in columns:
            value = row.values.get(c.name)
            style = base + (" green" if value is not None and best.get(c.name) == value and len(rows) > 1 else "")
            cells.append(Text(value_text(value), style=style.strip()))
        table.add_row(
            Text(str(place) if rank is not None else "-", style=base),
            Text(row.entry, style=base),
            *cells,
            Text("-" if rank is None else f"{rank:.2f}", style=base),
            Text(row.detail, style=base),
        )


class ResultsScreen(Screen):
    DEFAULT_CSS = SCREEN_CSS
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]


class FinalResultsScreen(ResultsScreen):
    BINDINGS = [Binding("f3,ctrl+l", "app.leaderboard", "Leaderboard")]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        session = self.session
        task = session.task
        sub = session.state.submission
        n = sub.key.n if sub else "?"
        yield Static(f"Final results · {task.id} · submitted test #{n} · profile {session.profile} · seed {session.seed}",
                     classes="screen-title")
        comparable = task.profiles[session.profile].comparable
        hidden = ", ".join(c.name for c in metric_columns(task, hidden=True)) or "none"
        yield Static(f"Visible results come from test #{n}; hidden settings ran now on its code ({hidden}). "
                     "Rows are ranked by mean rank over the metrics (1 = best).", classes="note")
        if not comparable:
            yield Static(
                f"Profile {session.profile}: your numbers come from a different protocol than the published "
                "rows (paper protocol); they are shown for orientation only and are NOT comparable.",
                classes="note warning",
            )
        yield DataTable(id="final-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(classes="feedback"):
            yield Static(Text((sub.feedback if sub else None) or ""), id="final-feedback")
        yield Footer()

    def on_mount(self) -> None:
        columns, rows, ranks = final_rows(self.session)
        _fill(self.query_one("#final-table", DataTable), columns, rows, ranks)


class LeaderboardScreen(ResultsScreen):
    """Published rows (comparable profiles only) and local people's submitted sessions."""

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session
        self.sessions_dir = session.dir.parent.parent
        self.shown: str | None = None

    def compose(self) -> ComposeResult:
        task = self.session.task
        yield Static(f"Leaderboard · {task.id} · {task.title}", classes="screen-title")
        yield Tabs(*(Tab(p, id=f"profile-{p}") for p in PROFILES if p in task.profiles), id="profiles",
                   active=f"profile-{self.session.profile}")
        yield Static("", id="board-note", classes="note")
        yield DataTable(id="board-table", cursor_type="row", zebra_stripes=True)
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
        task = self.session.task
        board = build_board(task, self.sessions_dir, profile)
        columns = [c for c in metric_columns(task)]
        ranks = mean_ranks(board.rows, {c.name: c.direction for c in columns})
        order = sorted(range(len(board.rows)), key=lambda i: (ranks[i] is None, ranks[i] or 0, i))
        rows, ranks = [board.rows[i] for i in order], [ranks[i] for i in order]
        info = task.profiles[profile]
        local = sum(1 for r in rows if r.kind == "person")
        if board.comparable:
            note = f"{info.summary} Published results (mean of 3 seeds) and {local} local submission(s)."
        else:
            note = (f"{info.summary} Only local submissions of this profile ({local}); published results are "
                    "shown on the paper board only, as this profile is not comparable with them.")
        note_widget = self.query_one("#board-note", Static)
        note_widget.update(note)
        note_widget.set_class(not board.comparable, "warning")
        _fill(self.query_one("#board-table", DataTable), columns, rows, ranks, you_detail=f"session {self.session.id}")
        if not rows:
            self.query_one("#board-table", DataTable).add_row("", "(no entries yet for this profile)")
