"""The task description, as Markdown, in a pane that can be collapsed to a one-line summary."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static


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


class TaskSummary(Static):
    """The task in one line, in place of the collapsed pane: its title, and the key that opens it."""

    DEFAULT_CSS = """
    TaskSummary { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, title: str, key: str, **kwargs) -> None:
        text = Text.assemble(("Task ", "bold"), title, (f"  ·  {key} shows the description", "dim"),
                             no_wrap=True, overflow="ellipsis")
        super().__init__(text, **kwargs)
