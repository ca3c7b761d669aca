"""How a refusal from the engine reaches the person: a notice, or a dialog when it is long."""

from __future__ import annotations

from textual.app import App

from tui.screens.dialogs import MessageDialog

LONG_NOTICE = 160  # characters; a longer message (or one of several lines) gets a dialog


def show_refusal(app: App, title: str, message: str) -> None:
    if "\n" in message.strip() or len(message) > LONG_NOTICE:
        app.push_screen(MessageDialog(title, message))
    else:
        app.notify(message, title=title, severity="error", timeout=8)
