"""Small modal dialogs: confirm, message, quit-while-running, choose a test to submit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from tui.model import metric_columns, run_state_word, value_text


class Dialog(ModalScreen):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 76; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog.danger > Vertical { border: thick $error; }
    Dialog .dialog-title { text-style: bold; padding: 0 0 1 0; }
    Dialog .dialog-body { height: auto; max-height: 20; }
    Dialog .buttons { height: auto; align: right middle; padding-top: 1; }
    Dialog Button { margin-left: 1; }
    Dialog DataTable { height: auto; max-height: 10; }
    """


class ConfirmDialog(Dialog):
    """Yes or no; dismisses with True when confirmed."""

    AUTO_FOCUS = "#yes"  # focused when shown; no error if the dialog is already gone
    BINDINGS = [
        Binding("escape,n", "dismiss_no", "Cancel"),
        Binding("y", "dismiss_yes", "Confirm", show=False),
    ]

    def __init__(self, title: str, body: str | Text, confirm: str = "Confirm", cancel: str = "Cancel", danger: bool = False):
        super().__init__(classes="danger" if danger else "")
        self._title, self._body, self._confirm, self._cancel = title, body, confirm, cancel
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._body, id="dialog-text")
            with Horizontal(classes="buttons"):
                yield Button(self._cancel, id="no")
                yield Button(self._confirm, id="yes", variant="error" if self._danger else "primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_dismiss_no(self) -> None:
        self.dismiss(False)

    def action_dismiss_yes(self) -> None:
        self.dismiss(True)


class MessageDialog(Dialog):
    """A message that needs more room than a notification (e.g. preflight output)."""

    AUTO_FOCUS = "#ok"  # focused when shown; no error if the dialog is already gone
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, text: str, error: bool = True):
        super().__init__(classes="danger" if error else "")
        self._title, self._text = title, text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(Text(self._text), id="dialog-text")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class QuitDialog(Dialog):
    """Quitting while a run is going: leave it running, cancel it, or stay."""

    AUTO_FOCUS = "#leave"  # focused when shown; no error if the dialog is already gone
    BINDINGS = [
        Binding("escape", "choose('stay')", "Stay"),
        Binding("l", "choose('leave')", "Leave running", show=False),
        Binding("c", "choose('cancel')", "Cancel run", show=False),
    ]

    def __init__(self, what: str):
        super().__init__()
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{self._what} is still running", classes="dialog-title")
            yield Static(
                "Leave it running: the training processes go on without the app; "
                "open this session again to follow it (it is re-attached).\n"
                "Cancel it: the processes are stopped. A cancelled test is not refunded.",
                classes="dialog-body",
            )
            with Horizontal(classes="buttons"):
                yield Button("Stay", id="stay")
                yield Button("Cancel the run and quit", id="cancel", variant="error")
                yield Button("Leave it running and quit", id="leave", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class SubmitDialog(Dialog):
    """Choose which test to submit; dismisses with its number or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session):
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        session = self.session
        hidden = ", ".join(s.label for s in session.settings(hidden=True)) or "none"
        with Vertical():
            yield Static("Submit: choose the test that is your final answer", classes="dialog-title")
            yield Static(
                f"The chosen test's code also runs on the hidden settings ({hidden}); "
                "the session then closes with its final table.",
                classes="dialog-body",
            )
            yield DataTable(id="submit-table", cursor_type="row")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="no")
                yield Button("Submit the highlighted test…", id="yes", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one("#submit-table", DataTable)
        columns = metric_columns(self.session.task, hidden=False)
        table.add_column("test", key="test")
        table.add_column("state", key="state")
        for c in columns:
            table.add_column(c.heading, key=c.name)
        best_row, best_value = 0, None
        primary = columns[0] if columns else None
        for i, record in enumerate(self.session.state.tests):
            results = record.results()
            table.add_row(
                f"#{record.key.n}", run_state_word(record), *(results.get(c.name, value_text(None)) for c in columns),
                key=str(record.key.n),
            )
            if primary and primary.name in results:
                try:
                    value = float(results[primary.name])
                except ValueError:
                    continue
                better = best_value is None or (value > best_value if primary.direction == "max" else value < best_value)
                if better:
                    best_row, best_value = i, value
        table.move_cursor(row=best_row)
        table.focus()

    def _chosen(self) -> int | None:
        table = self.query_one("#submit-table", DataTable)
        if table.row_count == 0:
            return None
        return table.cursor_row + 1

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(self._chosen())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._chosen() if event.button.id == "yes" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
