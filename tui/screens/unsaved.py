"""Quitting with text the session does not have: save it, quit without it, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from tui.screens.dialogs import Dialog


class UnsavedDialog(Dialog):
    """Dismisses with "save", "discard" or "stay"; without `can_save` (the session takes no
    more edits) only "discard" and "stay" are offered."""

    BINDINGS = [
        Binding("escape", "choose('stay')", "Stay"),
        Binding("s", "choose('save')", "Save and quit", show=False),
        Binding("d", "choose('discard')", "Quit without saving", show=False),
    ]

    def __init__(self, paths: list[str], kept_in: str, can_save: bool = True):
        super().__init__()
        self._paths, self._kept_in, self._can_save = paths, kept_in, can_save

    def compose(self) -> ComposeResult:
        files = ", ".join(self._paths)
        body = [f"{files} {'has' if len(self._paths) == 1 else 'have'} changes the session does not have yet."]
        if self._can_save:
            body.append("Save: they are journaled like ctrl+s, then the app quits.")
        else:
            body.append("The session takes no more edits (a test was submitted).")
        body.append(f"Without saving: a copy is kept in {self._kept_in}; the next start offers it back.")
        with Vertical():
            yield Static("Unsaved changes", classes="dialog-title")
            yield Static("\n".join(body), classes="dialog-body", id="dialog-text")
            with Horizontal(classes="buttons"):
                yield Button("Stay", id="stay")
                yield Button("Quit without saving", id="discard", variant="error")
                if self._can_save:
                    yield Button("Save and quit", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#save" if self._can_save else "#stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        if choice != "save" or self._can_save:
            self.dismiss(choice)
