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
from textual.screen import Screen

from sessions.engine import Session
from sessions.errors import Refused
from sessions.worktime import WorkClock
from tui import recovery
from tui.collector import PERIOD, QuietCollector
from tui.model import run_word
from tui.screens.dialogs import QuitDialog
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.unsaved import UnsavedDialog
from tui.watch import WorkspaceWatcher
from tui.widgets.files import DiskChanged

STYLES = Path(__file__).parent / "styles"
# How long a thread may hold the GIL while another waits (Python's default: 5 ms). The
# engine's log readers and the plot builder are threads of this process; with the
# default, a key's handling waits up to 5 ms each time the UI thread takes the GIL back.
SWITCH_INTERVAL = 0.001


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
        notes: list[str] | None = None,
    ) -> None:
        """clock: seconds since the epoch (tests pin it); animate: spinners and a
        blinking cursor (off for snapshots); watch: follow the workspace with watchdog;
        own_process: the app is all this process runs (the CLI), so it may tune the collector;
        notes: what the person should know about how the session was opened, shown as notices."""
        super().__init__()
        self.session = session
        self.clock = clock or time.time
        self.work = WorkClock(session, self.clock)  # the working clock reads the app's clock
        self.animate = animate
        self._watch = watch
        self._own_process = own_process
        self._notes = list(notes or [])
        self._watcher: WorkspaceWatcher | None = None
        self._session_closed = False
        self.close_choice = "leave"  # what closing does to a run still going: leave | cancel
        self.last_key = 0.0  # monotonic time of the last key press (streaming yields to typing)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_key = time.monotonic()
        await super().on_event(event)

    def get_default_screen(self) -> Screen:
        return MainScreen(self.session, work=self.work, animate=self.animate, quiet_for=self.quiet_for)

    def quiet_for(self) -> float:
        """Seconds since the person last pressed a key."""
        return time.monotonic() - self.last_key

    @property
    def main(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        for note in self._notes:
            self.notify(note, title="Session", timeout=12, markup=False)
        if self._own_process:
            sys.setswitchinterval(SWITCH_INTERVAL)
            collector = QuietCollector(quiet_for=self.quiet_for)
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

    # -- actions ---------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_leaderboard(self) -> None:
        self.main.action_leaderboard()

    def action_quit_app(self) -> None:
        """Quit: unsaved editor text is saved or kept as a recovery copy first, and a run
        still going is left running or cancelled, as the person chooses."""
        if isinstance(self.screen, (QuitDialog, UnsavedDialog)):
            return
        main = self.main
        if main.preflight:
            # start_test()/start_submit() are between their check and their journal entry
            self.notify(f"Wait a moment: the preflight check for {main.preflight} is running.", timeout=4)
            return
        unsaved = main.files.unsaved()
        if not unsaved:
            self._quit_leaving_runs()
            return
        try:
            kept = str(recovery.keep(self.session.dir, unsaved))
        except OSError as exc:
            kept = f"no file: it could not be written ({exc})"

        def chosen(choice: str | None) -> None:
            if choice == "stay":
                recovery.forget(self.session.dir)
            elif choice == "save":
                if main.files.save_all(quiet=True):  # refused: the copy stays, the app too
                    recovery.forget(self.session.dir)
                    self._quit_leaving_runs()
            elif choice == "discard":
                self._quit_leaving_runs()

        can_save = self.session.state.submission is None
        self.push_screen(UnsavedDialog(list(unsaved), kept, can_save=can_save), chosen)

    def _quit_leaving_runs(self) -> None:
        """Quit, asking first what to do with a run still going."""
        active = self.session.state.active_run()
        if active is None:
            self.shutdown("leave")
            return

        def chosen(choice: str | None) -> None:
            if choice in ("leave", "cancel"):
                self.shutdown(choice)

        self.push_screen(QuitDialog(run_word(active.key)), chosen)

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
        if self._session_closed:
            return
        self._session_closed = True
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        try:
            self.work.stop()  # closing the app stops the clock
        except Exception:
            pass  # not recorded: the journal's last tick bounds what is lost
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


def run_app(session: Session, notes: list[str] | None = None) -> None:
    """Run the app on an open session until the person quits; closes the session.
    `notes` (how the session was chosen) are shown as notices."""
    app = MlsBenchApp(session, own_process=True, notes=notes)
    try:
        app.run()
    finally:
        app.close_session()
