"""The task description, as Markdown, in a pane that can be collapsed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown


class TaskPane(VerticalScroll):
    DEFAULT_CSS = """
    TaskPane { width: 30%; min-width: 26; max-width: 72; border-right: tall $panel-lighten-1; padding: 0 1; }
    TaskPane.collapsed { display: none; }
    TaskPane Markdown { margin: 0; padding: 0; }
    """

    def __init__(self, markdown: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._markdown = markdown
        self.can_focus = True

    def compose(self) -> ComposeResult:
        yield Markdown(self._markdown, id="task-markdown")
