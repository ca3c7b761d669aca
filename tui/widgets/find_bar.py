"""A one-line bar under the screen to search the editor's file or go to a line.

It is a modal screen with a see-through background, so the editor stays in view
and shows each match as it is selected; closing it returns the focus to the
editor with the match (or line) under the cursor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tui.find import find_all, line_problem, line_request, pick

if TYPE_CHECKING:
    from tui.widgets.editor import GuardedEditor

Mode = Literal["find", "line"]
PROMPTS = {"find": "Find", "line": "Go to line"}


class FindBar(ModalScreen[None]):
    DEFAULT_CSS = """
    FindBar { align: left bottom; background: $background 0%; }
    FindBar > Horizontal { height: 1; width: 100%; background: $panel; margin-bottom: 1; }
    FindBar Label { padding: 0 1; }
    FindBar #find-prompt { background: $accent; color: $text; text-style: bold; }
    FindBar Input, FindBar Input:focus { border: none; height: 1; width: 1fr; padding: 0 1; }
    FindBar #find-status { color: $text-muted; }
    FindBar #find-status.problem { color: $text-error; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("down", "next(True)", "Next match"),
        Binding("up", "next(False)", "Previous match"),
    ]

    def __init__(self, editor: GuardedEditor, mode: Mode) -> None:
        super().__init__()
        self.editor = editor
        self.mode = mode
        self.origin = min(editor.selection)  # an incremental search starts here
        self.matches: list[tuple[int, int]] = []
        self.current: int | None = None

    def compose(self) -> ComposeResult:
        hint = ("enter/↓ next · ↑ previous · :N line N · esc closes" if self.mode == "find"
                else f"1-{self.editor.document.line_count} · enter goes · esc closes")
        with Horizontal():
            yield Label(PROMPTS[self.mode], id="find-prompt")
            yield Input(
                self.editor.last_search if self.mode == "find" else "",
                placeholder=hint,
                restrict=None if self.mode == "find" else r"\d*",
                select_on_focus=True,
                id="find-input",
            )
            yield Label("", id="find-status")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.mode == "find" and self.editor.last_search:
            self._search(self.editor.last_search)

    # -- searching ----------------------------------------------------------------------------
    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if self.mode == "find":
            self._search(event.value)

    def _search(self, query: str) -> None:
        number = line_request(query)
        if number is not None:
            self._say(f"enter: go to line {number}")
            return
        self.editor.last_search = query
        self.matches = find_all(self.editor.document.lines, query)
        self._show(pick(self.matches, self.origin, inclusive=True))

    def action_next(self, forward: bool) -> None:
        if self.mode != "find" or not self.matches:
            return
        where = min(self.editor.selection)
        self._show(pick(self.matches, where, forward=forward))

    def _show(self, index: int | None) -> None:
        self.current = index
        query = self.editor.last_search
        if index is None:
            self._say(f"no match for {query!r}" if query else "", problem=bool(query))
            return
        self.editor.show_match(self.matches[index], len(query))
        self._say(f"{index + 1} of {len(self.matches)}")

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        text = event.value
        number = line_request(text) if self.mode == "find" else (int(text) if text.strip() else None)
        if number is None:
            self.action_next(True)
            return
        problem = line_problem(number, self.editor.document.line_count)
        if problem:
            self._say(problem, problem=True)
            return
        self.editor.go_to_line(number)
        self.dismiss()

    def _say(self, text: str, problem: bool = False) -> None:
        status = self.query_one("#find-status", Label)
        status.update(text)
        status.set_class(problem, "problem")

    def action_close(self) -> None:
        self.dismiss()
