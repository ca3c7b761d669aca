"""The main screen: header, task, the editable files, live runs and history; the actions
of a session (save, undo, test, cancel, submit) and the dialogs that confirm them."""

from __future__ import annotations

import time
from typing import Callable

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, TextArea

from sessions.engine import Session
from sessions.errors import Refused
from sessions.events import RunKey
from sessions.notes import add_note, current_step
from sessions.worktime import TICK_SECONDS, WorkClock, clock_text
from tui.model import (
    activity_text,
    budget_text,
    profile_note,
    run_end_notice,
    run_word,
    submit_confirmation,
    test_confirmation,
)
from tui.notices import show_refusal
from tui.screens.dialogs import ConfirmDialog, SubmitDialog
from tui.screens.note import NoteDialog
from tui.screens.results import FinalResultsScreen, LeaderboardScreen
from tui.widgets.editor import GuardedEditor
from tui.widgets.files import DiskChanged, FilesPane
from tui.widgets.header import SessionHeader
from tui.widgets.history import HistoryPanel
from tui.widgets.run_tabs import RunTabs
from tui.widgets.target_banner import TargetBanner
from tui.widgets.task_pane import TaskPane, TaskSummary

# The header changes every second (clock, progress counts). Not faster: at the top of the
# screen, any change to it in the same frame as the logs at the bottom makes Textual repaint
# everything between (the editor, the task), the most expensive frames there are.
HEADER_INTERVAL = 1.0
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
LAYOUTS = ("even", "logs", "editor")
LAYOUT_NAMES = {"even": "editor and logs", "logs": "logs only (editor hidden)", "editor": "editor only (logs hidden)"}
REFUSAL_REPEAT = 1.5  # seconds during which the same refused edit is not announced again
# Actions that change the session's code or spend its budget: gone from the footer (and
# refused by their keys) once a test is submitted.
EDITING_ACTIONS = {"save", "test", "undo_edit", "external_editor"}
NARROW = 120  # columns: below, the task pane starts collapsed to its one-line summary (F2 opens it)


class MainScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("f5,ctrl+t", "test", "Test", priority=True),
        Binding("f8,ctrl+b", "cancel_run", "Cancel", priority=True),
        Binding("ctrl+z", "undo_edit", "Undo", show=False),  # F1 lists it: the footer is full at 100 columns
        Binding("f4,ctrl+o", "external_editor", "$EDITOR", priority=True),
        Binding("f9,ctrl+g", "submit", "Submit", priority=True),
        Binding("f9,ctrl+g", "final_results", "Results", priority=True),
        Binding("f3,ctrl+l", "leaderboard", "Board", priority=True),
        Binding("f2", "toggle_task", "Task", priority=True),
        Binding("f7", "next_run_tab", "Logs", priority=True),
        Binding("f6", "cycle_layout", "Layout", priority=True, show=False),
        Binding("f12", "toggle_ghosts", "Ghosts", priority=True),
        Binding("ctrl+n", "focus_pane(1)", "Pane", priority=True, show=False),  # F1 lists it (100 columns)
        Binding("ctrl+p", "focus_pane(-1)", "Previous pane", priority=True, show=False),
        # The letters work outside the editor (and p in a paused, read-only one); F10 and ctrl+r everywhere.
        Binding("f10", "pause_work", "Pause", priority=True, show=False),
        Binding("p", "pause_work", "Pause", show=False),
        Binding("ctrl+r", "note", "Note", priority=True, show=False),
        Binding("n", "note", "Note", show=False),
    ]

    def __init__(self, session: Session, *, work: WorkClock, animate: bool, quiet_for: Callable[[], float]) -> None:
        """work: the working clock (it reads the app's clock); animate: spinners and a blinking
        cursor; quiet_for: seconds since the person last pressed a key."""
        super().__init__(id="main")
        self.session, self.work = session, work
        self._time_up = False
        self.motion, self.quiet_for = animate, quiet_for
        self.preflight: str | None = None  # what the preflight is for, while it runs
        self.cancelling = False
        self._behind_key_pending = False
        self._last_refusal: tuple[str, float] = ("", 0.0)
        self._layout = 0
        self._spin = 0
        self._task_shown: bool | None = None  # F2's choice; None: the task pane follows the width

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield SessionHeader(id="header")
        yield TargetBanner(self.session, id="target")
        yield TaskSummary(self.session.task.title, "F2", id="task-summary")
        with Horizontal(id="body"):
            yield TaskPane(self.session.task.description, id="task")
            with Vertical(id="work"):
                yield FilesPane(self.session, cursor_blink=self.motion, id="editor-pane")
                yield RunTabs(self.session, quiet_for=self.quiet_for, id="runs")
        yield Footer(compact=True)

    @property
    def files(self) -> FilesPane:
        return self.query_one(FilesPane)

    @property
    def runs(self) -> RunTabs:
        return self.query_one(RunTabs)

    def on_mount(self) -> None:
        session = self.session
        self._fit_task_pane()
        self.refresh_header()
        self.set_interval(HEADER_INTERVAL, self.tick_header)
        self._journal_clock(self.work.start)
        self._lock_editors()
        self.set_interval(TICK_SECONDS, self.tick_work)
        editor = self.active_editor()
        if editor is not None:
            editor.focus()
        if session.resume_warning:
            self.notify(session.resume_warning, title="Journal", severity="warning", timeout=10)
        active = session.state.active_run()
        if active is not None and session.controller is None:
            self._reattach(active.key)
        for path in session.editable_paths:
            self.files.check_disk(path, source="another editor (while the app was closed)")
        self.files.offer_recovery()
        if session.state.closed:
            self.call_after_refresh(self.app.push_screen, FinalResultsScreen(session))

    def editors(self) -> list[GuardedEditor]:
        return self.files.editors()

    def active_editor(self) -> GuardedEditor | None:
        return self.files.active_editor()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers only what is still possible: after a submission, nothing that
        edits or tests; F9 shows the final table once the session is closed."""
        state = self.session.state
        if action in EDITING_ACTIONS:
            return state.submission is None
        if action == "submit":
            return state.submission is None
        if action == "final_results":
            return state.closed
        if action == "cancel_run":
            return state.submission is None or state.active_run() is not None
        if action == "toggle_ghosts":  # only where there are ghosts to show
            return bool(self.query(RunTabs)) and self.runs.has_ghosts
        return True

    # -- the header -----------------------------------------------------------------------------
    def tick_header(self) -> None:
        state = self.session.state
        if not self._time_up and state.submission is None and not state.work.paused and state.work.refusal():
            self._time_up = True
            self._lock_editors()
            self.notify("The time limit is used up: edits and tests are closed; submit one of your tests (F9).",
                        title="Time is up", severity="warning", timeout=15)
        if not self.runs.typing():  # like the stream, the clock waits while the person types
            self.refresh_header()

    def refresh_header(self) -> None:
        session = self.session
        task = session.task
        header = self.query_one(SessionHeader)
        header.set_title(self._title())
        header.set_budget(*budget_text(session.state))
        header.set_work_clock(*clock_text(session.state.work))
        comparable = task.profiles[session.profile].comparable
        header.set_facts(f"{profile_note(task, session.profile)} · seed {session.seed} · session {session.id}", comparable)
        header.set_activity(*self._activity())

    def _activity(self) -> tuple[str, bool]:
        self._spin += 1
        spin = SPINNER[self._spin % len(SPINNER)] if self.motion else "…"
        return activity_text(self.session.state, spin, self.preflight, self.cancelling, self.runs.progress,
                             self.runs.test_eta())

    # -- what the runs report ---------------------------------------------------------------------
    @on(RunTabs.StateChanged)
    def _runs_changed(self, event: RunTabs.StateChanged) -> None:
        if event.session_changed:
            self.refresh_state()
        else:
            self.refresh_header()  # progress counts alone wait for the header's own tick

    def refresh_state(self) -> None:
        self.query_one("#history").refresh_tests()
        if self.session.state.read_only:  # the clock stops at the submission
            self.tick_work()
        self._lock_editors()
        self.refresh_bindings()
        self.refresh_header()

    @on(RunTabs.RunEnded)
    def _run_ended(self, event: RunTabs.RunEnded) -> None:
        self.refresh_state()
        self.cancelling = False
        notice = run_end_notice(self.session.state, event.key)
        if notice is None:
            return
        title, text, severity = notice
        self.notify(text, title=title, severity=severity, timeout=10)
        if event.key.phase == "submit":
            self.app.push_screen(FinalResultsScreen(self.session))

    # -- editing ------------------------------------------------------------------------------------
    def action_save(self) -> None:
        if not self.files.unsaved():
            self.notify("Nothing to save: the editor matches the session.", timeout=3)
            return
        self.files.save_all()

    def action_undo_edit(self) -> None:
        editor = self.active_editor()
        if editor is not None and editor.dirty and editor.history.undo_stack:
            editor.undo()
            return
        self.engine_undo()

    @on(GuardedEditor.EngineUndo)
    def _engine_undo_requested(self, event: GuardedEditor.EngineUndo) -> None:
        self.engine_undo()

    def engine_undo(self) -> None:
        if self.session.state.submission is not None:
            self.notify("A test was submitted: the session takes no more edits.", severity="warning", timeout=4)
            return
        try:
            message = self.session.undo()
        except Refused as exc:
            show_refusal(self.app, "Nothing undone", str(exc))
            return
        self.files.reload()
        self.notify(message, title="Undo (journaled)", timeout=5)
        self.refresh_header()

    @on(GuardedEditor.Refused)
    def _edit_refused(self, event: GuardedEditor.Refused) -> None:
        message, when = self._last_refusal
        now = time.monotonic()
        if message == event.message and now - when < REFUSAL_REPEAT:
            return
        self._last_refusal = (event.message, now)
        self.notify(event.message, title="Edit refused", severity="error", timeout=4)

    @on(TextArea.Changed)
    @on(TextArea.SelectionChanged)
    def _key_handled(self) -> None:
        if not self._behind_key_pending:
            self._behind_key_pending = True
            self.call_after_refresh(self._drain_behind_key)

    def _drain_behind_key(self) -> None:
        self._behind_key_pending = False
        self.runs.drain(behind_key=True)

    def action_external_editor(self) -> None:
        why = self.session.state.submission is None and self.session.state.work.refusal()
        if why:  # what the other editor saved would be refused on return
            show_refusal(self.app, "$EDITOR not opened", why)
            return
        self.files.edit_externally()

    @on(DiskChanged)
    def _disk_changed(self, event: DiskChanged) -> None:
        self.files.disk_changed(event.path)

    # -- tests, cancel, submit ----------------------------------------------------------------------------
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

    # -- the working clock and notes ------------------------------------------------------------------
    def _journal_clock(self, call: Callable[[], object]) -> None:
        try:
            call()
        except Refused as exc:  # the disk is full, say: the clock goes on in memory
            show_refusal(self.app, "The working clock was not recorded", str(exc))
        self.refresh_header()

    def tick_work(self) -> None:
        self._journal_clock(self.work.tick)

    def _lock_editors(self) -> None:
        """Editors are read-only after a submission, and while paused or out of time (saying why)."""
        state = self.session.state
        because = None if state.submission is not None else state.work.refusal()
        locked = state.submission is not None or because is not None
        if any(e.read_only != locked or e.locked_because != because for e in self.editors()):
            self.files.set_read_only(locked, because)

    def action_pause_work(self) -> None:
        """F10 (or p outside the editor): pause the working clock, or resume it."""
        state = self.session.state
        if state.read_only:
            self.notify("The working clock stopped at the submission: there is nothing to pause.", timeout=4)
            return
        if state.work.paused:
            self._journal_clock(self.work.resume)
            self.notify("Resumed: the working clock runs again.", title="Working clock", timeout=4)
        else:
            self._journal_clock(self.work.pause)
            self.notify("Paused: the working clock is stopped. Edits and new tests wait until you resume "
                        "(F10, or p); a test that runs keeps running.", title="Working clock", timeout=8)
        self._lock_editors()

    def action_note(self) -> None:
        """ctrl+r (or n outside the editor): write a note at the step the session is at."""
        def save(text: str) -> str:
            note = add_note(self.session, text)
            self.query_one("#history", HistoryPanel).refresh_notes()
            return f"Note recorded {note.step} (journaled)."

        self.app.push_screen(NoteDialog(current_step(self.session.state), save),
                             lambda message: self.notify(message, title="Note", timeout=4) if message else None)

    # -- screens and layout --------------------------------------------------------------------------
    def action_leaderboard(self) -> None:
        self.app.push_screen(LeaderboardScreen(self.session))

    def action_toggle_task(self) -> None:
        self._task_shown = self.query_one(TaskPane).has_class("collapsed")
        self._fit_task_pane()
        self.call_after_refresh(self._refocus)

    def action_cycle_layout(self) -> None:
        work_area = self.query_one("#work")
        work_area.remove_class(f"layout-{LAYOUTS[self._layout]}")
        self._layout = (self._layout + 1) % len(LAYOUTS)
        work_area.add_class(f"layout-{LAYOUTS[self._layout]}")
        self.notify(f"Layout: {LAYOUT_NAMES[LAYOUTS[self._layout]]} · F6 for the next one", timeout=3)
        self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        """F2 or F6 hid the focused pane: the focus goes to one on screen, the editor first."""
        if self.focused is not None:
            return
        editor = self.active_editor()
        if editor is not None and editor in self.focus_chain:
            editor.focus()
        else:
            self.action_focus_pane(1)

    def action_focus_pane(self, step: int) -> None:
        """ctrl+n / ctrl+p: the focus to the next / previous pane on screen (task, editor, logs)."""
        runs = self.runs
        chain = self.focus_chain  # displayed widgets only: a hidden pane is skipped
        panes = [p for p in (self.query_one(TaskPane), self.files, runs.active_pane or runs)
                 if any(w is p or p in w.ancestors for w in chain)]
        if not panes:
            return
        focused = self.focused
        current = next((i for i, p in enumerate(panes) if focused is not None and (focused is p or p in focused.ancestors)), -1 if step > 0 else 0)
        pane = panes[(current + step) % len(panes)]
        next(w for w in chain if w is pane or pane in w.ancestors).focus()

    def action_next_run_tab(self) -> None:
        self.runs.next_tab()

    def action_toggle_ghosts(self) -> None:
        shown = self.runs.toggle_ghosts()
        self.notify("The opponents' re-scored curves are " + ("shown" if shown else "hidden") + " · F12 toggles them",
                    timeout=3)

    # -- the width ------------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._fit_task_pane()
        self.call_after_refresh(self.refresh_header)  # the title fits the header's new width

    def _fit_task_pane(self) -> None:
        """The task pane, or in its place the one-line summary: as F2 chose, else by the width."""
        shown = self._task_shown if self._task_shown is not None else self.size.width >= NARROW
        self.query_one(TaskPane).set_class(not shown, "collapsed")
        self.query_one(TaskSummary).display = not shown

    def _title(self) -> str:
        """The task id and title when they fit the header, else the id (the title is in the
        task pane's heading, or in the summary line that stands for it)."""
        task = self.session.task
        full = f"{task.id} · {task.title}"
        room = self.query_one("#header #title").content_size.width
        return full if not room or cell_len(full) <= room else task.id
