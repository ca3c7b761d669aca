"""The target banner: one line with what to beat on this profile, and on a profile other than
the published one a second saying what its runs train. The leaderboard is read off the UI
thread, at mount and again every REREAD_S (a re-score or another person's submission made
elsewhere shows while one plays)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static

from sessions.leaderboard import Board, build_board
from tui.ghosts import OPPONENTS_REREAD_S
from tui.target import banner_lines


class TargetBanner(Static):
    REREAD_S = OPPONENTS_REREAD_S

    DEFAULT_CSS = """
    TargetBanner { height: auto; max-height: 2; padding: 0 1; background: $boost; color: $text;
                   text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.board: Board | None = None

    def on_mount(self) -> None:
        self._show()
        self._read_board()
        self.set_interval(self.REREAD_S, self._read_board)

    @work(thread=True, group="target", exit_on_error=False)
    def _read_board(self) -> None:
        session = self.session
        board = build_board(session.task, session.dir.parent.parent, session.profile)
        try:
            self.app.call_from_thread(self._board_read, board)
        except Exception:  # the app is closing
            pass

    def _board_read(self, board: Board) -> None:
        self.board = board
        self._show()

    def _show(self) -> None:
        first, *rest = banner_lines(self.session.task, self.session.profile, self.board)
        text = Text(first)
        for line in rest:
            text.append("\n" + line, style="italic")
        self.update(text)
