"""The two header lines: task, budget; profile, seed, session, elapsed, what is running."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static


class SessionHeader(Widget):
    DEFAULT_CSS = """
    SessionHeader { dock: top; height: 2; background: $panel; }
    SessionHeader Horizontal { height: 1; }
    SessionHeader #title { width: 1fr; text-style: bold; padding: 0 1; }
    SessionHeader #elapsed { width: auto; padding: 0 1; color: $text-muted; }
    SessionHeader #budget { width: auto; padding: 0 1; }
    SessionHeader #budget.ok { color: $text; background: $primary-muted; }
    SessionHeader #budget.last { color: $text; background: $warning-muted; }
    SessionHeader #budget.spent { color: $text; background: $error; text-style: bold; }
    SessionHeader #budget.closed { color: $text; background: $success-muted; }
    SessionHeader #elapsed.low { color: $text-warning; }
    SessionHeader #elapsed.paused { color: $text; background: $warning-muted; text-style: bold; }
    SessionHeader #elapsed.up { color: $text; background: $error; text-style: bold; }
    SessionHeader #facts { width: 1fr; padding: 0 1; color: $text-muted; }
    SessionHeader #facts.not-comparable { color: $text-warning; }
    SessionHeader #activity { width: 1fr; padding: 0 1; text-align: right; }
    SessionHeader #activity.busy { color: $text-accent; text-style: bold; }
    """

    FIXED = {"#activity", "#facts", "#title"}  # their size never depends on their text

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: dict[str, object] = {}

    def _set(self, selector: str, value: object, classes: str | None = None) -> None:
        """Update a part only when it changed (the header is refreshed every second)."""
        text = value.plain if isinstance(value, Text) else str(value)
        key = (text, classes)
        old = self._shown.get(selector)
        if old == key:
            return
        self._shown[selector] = key
        # A layout pass repaints the whole screen: only when the part may change size
        # (not for the clock ticking from 0:01:05 to 0:01:06).
        resized = selector not in self.FIXED and (old is None or cell_len(old[0]) != cell_len(text))
        widget = self.query_one(selector, Static)
        widget.update(value, layout=resized)
        if classes is not None:
            widget.set_classes(classes)

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(id="title")
            yield Static(id="activity")
            yield Static(id="elapsed")
            yield Static(id="budget")
        with Horizontal():
            yield Static(id="facts")

    def set_title(self, text: str) -> None:
        self._set("#title", Text(text, overflow="ellipsis", no_wrap=True))

    def set_elapsed(self, text: str) -> None:
        self._set("#elapsed", text)

    def set_work_clock(self, text: str, level: str) -> None:
        """The working clock in the #elapsed segment; level: "" | low | paused | up."""
        self._set("#elapsed", text, level)

    def set_budget(self, text: str, level: str) -> None:
        self._set("#budget", text, level)

    def set_facts(self, text: str, comparable: bool) -> None:
        self._set("#facts", Text(text, overflow="ellipsis", no_wrap=True), "" if comparable else "not-comparable")

    def set_activity(self, text: str, busy: bool) -> None:
        self._set("#activity", Text(text, overflow="ellipsis", no_wrap=True), "busy" if busy else "")
