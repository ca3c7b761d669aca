"""The main screen's run actions: test, cancel, submit and the final results, each behind
the dialog that confirms it; the engine's calls run off the UI thread."""

from __future__ import annotations

from typing import Callable

from textual import work

from sessions.errors import Refused
from sessions.events import RunKey
from tui.model import run_word, submit_confirmation, test_confirmation
from tui.notices import show_refusal
from tui.screens.dialogs import ConfirmDialog, SubmitDialog
from tui.screens.results import FinalResultsScreen


class RunActions:
    """Mixed into MainScreen (it provides session, files, runs, preflight, cancelling,
    tick_work, refresh_header and refresh_state)."""

    def action_test(self) -> None:
        session = self.session
        state = session.state
        if self.preflight:
            self.notify(f"The preflight for {self.preflight} is still running.", timeout=3)
            return
        if state.closed or state.active_run() is not None or state.budget_left <= 0 or state.work.refusal():
            self._start_test()  # the engine says why not, in its words
            return
        n = len(state.tests) + 1
        dirty = list(self.files.unsaved())

        def confirmed(yes: bool | None) -> None:
            if yes and (not dirty or self.files.save_all(quiet=True)):
                self._start_test()

        self.app.push_screen(
            ConfirmDialog(f"Run test #{n}?", test_confirmation(session, dirty), confirm=f"Run test #{n}"), confirmed)

    def _start_test(self) -> None:
        self.tick_work()  # the test's working time is the clock's reading now
        self.preflight = f"test #{len(self.session.state.tests) + 1}"
        self.runs.show_preflight(self.preflight, [s.label for s in self.session.settings(hidden=False)])
        self.refresh_header()
        self._engine_call(self.session.start_test, "The test was not started")

    @work(thread=True, group="engine", exit_on_error=False)
    def _engine_call(self, call: Callable[[], object], refused_title: str) -> None:
        try:
            call()
        except Refused as exc:
            self.app.call_from_thread(show_refusal, self.app, refused_title, str(exc))
        except Exception as exc:  # never a traceback on screen
            self.app.call_from_thread(show_refusal, self.app, refused_title, f"unexpected error: {exc!r}")
        finally:
            try:
                self.app.call_from_thread(self._engine_call_done)
            except Exception:
                pass

    def _engine_call_done(self) -> None:
        self.preflight = None
        self.runs.end_preflight()
        self.refresh_state()

    def _reattach(self, key: RunKey) -> None:
        self.notify(f"{run_word(key)} kept running while the app was closed; following it again.",
                    title="Re-attached", timeout=6)
        self._engine_call(self.session.reattach, "Could not re-attach")

    def action_cancel_run(self) -> None:
        active = self.session.state.active_run()
        if active is None:
            self.notify("No test is running.", timeout=3)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.cancelling = True
                self.refresh_header()
                self._cancel_worker()

        what = run_word(active.key)
        self.app.push_screen(
            ConfirmDialog(f"Cancel {what.lower() if active.key.phase == 'test' else what}?",
                          "Its training processes are stopped. A cancelled test is not refunded.",
                          confirm="Cancel the run", cancel="Keep running", danger=True),
            confirmed,
        )

    @work(thread=True, group="cancel", exit_on_error=False)
    def _cancel_worker(self) -> None:
        try:
            self.session.cancel()
        except Refused as exc:
            self.app.call_from_thread(show_refusal, self.app, "Not cancelled", str(exc))
        except Exception as exc:
            self.app.call_from_thread(show_refusal, self.app, "Not cancelled", f"unexpected error: {exc!r}")

    def action_submit(self) -> None:
        session = self.session
        state = session.state
        if state.closed:
            self.action_final_results()
            return
        if self.preflight:
            self.notify(f"The preflight for {self.preflight} is still running.", timeout=3)
            return
        if state.submission is not None or state.active_run() is not None or not state.tests:
            self._engine_call(lambda: session.start_submit(max(1, len(state.tests))), "Not submitted")
            return

        def chosen(n: int | None) -> None:
            if not n:
                return
            self.app.push_screen(
                ConfirmDialog(f"Submit test #{n}?", submit_confirmation(session, n), confirm=f"Submit test #{n}", danger=True),
                lambda yes: self._start_submit(n) if yes else None,
            )

        self.app.push_screen(SubmitDialog(session), chosen)

    def _start_submit(self, n: int) -> None:
        self.tick_work()  # the clock's reading as the submission starts
        hidden = self.session.settings(hidden=True)
        self.preflight = f"submission of test #{n}"
        self.runs.show_preflight(f"the {self.preflight}", [s.label for s in hidden])
        self.refresh_header()
        self._engine_call(lambda: self.session.start_submit(n), "Not submitted")
        if hidden:
            self.call_after_refresh(self.runs.show_setting, hidden[0].label)

    def action_final_results(self) -> None:
        self.app.push_screen(FinalResultsScreen(self.session))
