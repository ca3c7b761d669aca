"""Helpers for driving the Textual apps with Pilot in tests."""

from __future__ import annotations

import io
import time
from typing import Callable


class Captured:
    """Every message that arrives anywhere in an app (Textual's `run_test(message_hook=...)`)."""

    def __init__(self) -> None:
        self.messages: list = []

    def __call__(self, message) -> None:
        self.messages.append(message)

    def of(self, kind: type) -> list:
        """The messages of `kind`, each once (a bubbling message arrives at every parent)."""
        return list({id(m): m for m in self.messages if isinstance(m, kind)}.values())

    def notices(self) -> list[str]:
        """"title: message" of every notification posted."""
        from textual.notifications import Notify

        return [f"{m.notification.title}: {m.notification.message}" for m in self.of(Notify)]


def capture_messages(app):
    """`app`, whose `run_test` records its messages in `app.captured`."""
    run_test = app.run_test
    app.captured = Captured()
    app.run_test = lambda *args, **kwargs: run_test(*args, message_hook=app.captured, **kwargs)
    return app


async def confirm_test(pilot, app) -> str:
    """Press F5 and confirm the dialog: a test starts (or the engine's refusal shows).
    Returns the text the dialog showed."""
    from tui.screens.dialogs import ConfirmDialog

    await pilot.press("f5")
    body = await dialog_text(pilot, app, ConfirmDialog, what="the test dialog")
    await pilot.press("enter")
    return body


async def dialog_text(pilot, app, kind: type, what: str) -> str:
    """Wait for a dialog of `kind` to be on screen with its text drawn (the screen becomes
    current a moment before its widgets are mounted), and return that text."""
    await wait_for(pilot, lambda: isinstance(app.screen, kind) and bool(app.screen.query("#dialog-text")), what=what)
    return static_text(app.screen, "#dialog-text")


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await pilot.pause(0.05)


def static_text(node, selector: str) -> str:
    """The plain text a Static below `node` shows (a Text, a string, or any Rich renderable)."""
    from rich.console import Console
    from textual.widgets import Static

    content = node.query_one(selector, Static).content
    if isinstance(content, str) or hasattr(content, "plain"):
        return str(getattr(content, "plain", content))
    console = Console(width=200, color_system=None, file=io.StringIO())
    with console.capture() as captured:
        console.print(content)
    return captured.get()
