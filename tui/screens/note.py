"""The note editor: a modal for a note (markdown) at the step the session is at.

It records the note itself (through `save`), so a note that is refused (too
long, say) stays in the editor with the reason, and is never lost.
"""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from sessions.errors import Refused
from tui.screens.dialogs import ConfirmDialog


class NoteDialog(ModalScreen[str | None]):
    """Dismisses with the message `save` returned, or None when cancelled."""

    DEFAULT_CSS = """
    NoteDialog { align: center middle; }
    NoteDialog > Vertical {
        width: 90; max-width: 95%; height: 24; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    NoteDialog .dialog-title { text-style: bold; }
    NoteDialog .hint { color: $text-muted; padding-bottom: 1; }
    NoteDialog TextArea { height: 1fr; }
    NoteDialog .buttons { height: auto; align: right middle; padding-top: 1; }
    NoteDialog Button { margin-left: 1; }
    """
    AUTO_FOCUS = "#note-text"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save the note", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, step: str, save: Callable[[str], str]) -> None:
        """step: where the note goes, in words; save: records the text, returns what to tell."""
        super().__init__()
        self.step, self.save = step, save

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Note · {self.step}", classes="dialog-title")
            yield Static("Markdown. Journaled with the session, exported, shown in History and in replays; "
                         "it spends nothing. ctrl+s saves, escape cancels.", classes="hint")
            yield TextArea(id="note-text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save note", id="save", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        try:
            message = self.save(self.query_one("#note-text", TextArea).text)
        except Refused as exc:  # the text stays here to be changed
            self.notify(str(exc), title="Note not recorded", severity="error", timeout=8)
            return
        self.dismiss(message)

    def action_cancel(self) -> None:
        if not self.query_one("#note-text", TextArea).text.strip():
            self.dismiss(None)
            return
        self.app.push_screen(ConfirmDialog("Discard this note?", "Its text is not recorded anywhere.",
                                           confirm="Discard", cancel="Keep writing", danger=True),
                             lambda yes: self.dismiss(None) if yes else None)
