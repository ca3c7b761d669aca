"""The Textual app over one open Session.

    from tui.app import run_app
    run_app(session)          # the CLI does this after creating or resuming it

run_app closes the session when the app ends: a run still going is left
running (it can be re-attached) unless the person chose to cancel it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from sessions.engine import Session
from sessions.errors import Refused
from tui.bridge import EventPump
from tui.collector import PERIOD, QuietCollector
from tui.screens.dialogs import QuitDialog
from tui.screens.help import HelpScreen
from tui.screens.main import DiskChanged, MainScreen
from tui.watch import WorkspaceWatcher
from tui.widgets.runs import MAX_FLUSH

STYLES = Path(__file__).parent / "styles"
# How long a thread may hold the GIL while another waits (Python's default: 5 ms). The
# engine's log readers and the plot builder are threads of this process; with the
# default, a key's handling waits up to 5 ms each time the UI thread takes the GIL back.
SWITCH_INTERVAL = 0.001


class Wake(Message):
    """Drain the engine events now; wakes that pile up merge into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Wake)


class MlsBenchApp(App):
    CSS_PATH = [STYLES / "app.tcss"]
    TITLE = "mlsbench-tui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),
        Binding("ctrl+q", "quit_app", "Quit", priority=True),
    ]

    def __init__(
        self,
        session: Session,
        *,
        clock: Callable[[], float] | None = None,
        animate: bool = True,
        watch: bool = True,
        own_process: bool = False,
    ) -> None:
        """clock: seconds since the epoch (tests pin it); animate: spinners and a
        blinking cursor (off for snapshots); watch: follow the workspace with watchdog;
        own_process: the app is all this process runs (the CLI), so it may tune the collector."""
        super().__init__()
        self.session = session
        self.clock = clock or time.time
        self.animate = animate
        self.pump = EventPump(max_lines=MAX_FLUSH, wake=self._wake)
        self.session.subscribe(self.pump, lines_per_event=MAX_FLUSH)  # more than a tick can draw is only counted
        self._watch = watch
        self._own_process = own_process
        self._watcher: WorkspaceWatcher | None = None
        self._closed = False
        self.close_choice = "leave"  # what closing does to a run still going: leave | cancel
        self.last_key = 0.0  # monotonic time of the last key press (streaming yields to typing)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_key = time.monotonic()
        await super().on_event(event)

    def get_default_screen(self) -> Screen:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        if self._own_process:
            sys.setswitchinterval(SWITCH_INTERVAL)
            collector = QuietCollector(quiet_for=lambda: time.monotonic() - self.last_key)
            self.call_after_refresh(collector.start)
            self.set_interval(PERIOD, collector.tick)
        if self._watch:
            def changed(path: str) -> None:
                try:
                    self.main.post_message(DiskChanged(path))
                except Exception:
                    pass

            watcher = WorkspaceWatcher(self.session.workspace, self.session.editable_paths, changed)
            if watcher.start():
                self._watcher = watcher

    def _wake(self) -> None:
        """An urgent engine event (any thread): drain now rather than at the next tick."""
        try:
            self.post_message(Wake())
        except Exception:
            pass

    def on_wake(self, message: Wake) -> None:
        if self.screen_stack and isinstance(self.screen_stack[0], MainScreen):
            self.screen_stack[0].drain()

    # -- actions ---------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_leaderboard(self) -> None:
        self.main.action_leaderboard()

    def action_quit_app(self) -> None:
        if isinstance(self.screen, QuitDialog):
            return
        main = self.main
        if isinstance(main, MainScreen) and main.preflight:
            # start_test()/start_submit() are between their check and their journal entry
            self.notify(f"Wait a moment: the preflight check for {main.preflight} is running.", timeout=4)
            return
        active = self.session.state.active_run()
        if active is None:
            self.shutdown("leave")
            return

        def chosen(choice: str | None) -> None:
            if choice in ("leave", "cancel"):
                self.shutdown(choice)

        what = f"Test #{active.key.n}" if active.key.phase == "test" else f"The submission of test #{active.key.n}"
        self.push_screen(QuitDialog(what), chosen)

    def shutdown(self, choice: str) -> None:
        self.close_choice = choice
        if choice == "cancel":
            self.notify("Cancelling the run…", timeout=10)
            self.run_worker(self._close_then_exit, thread=True, exit_on_error=False)
        else:
            self.close_session()
            self.exit()

    def _close_then_exit(self) -> None:
        self.close_session()
        self.call_from_thread(self.exit)

    def close_session(self) -> None:
        """Close the session once (idempotent); called on quit and by run_app."""
        if self._closed:
            return
        self._closed = True
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        try:
            self.session.close(cancel_running=self.close_choice == "cancel")
        except Refused:
            # The run ended between the choice and the close (cancel then finds nothing to
            # cancel): close again without cancelling, so the journal and lock are released.
            try:
                self.session.close(cancel_running=False)
            except Exception:
                pass
        except Exception:
            pass

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None


def run_app(session: Session) -> None:
    """Run the app on an open session until the person quits; closes the session."""
    app = MlsBenchApp(session, own_process=True)
    try:
        app.run()
    finally:
        app.close_session()
