"""The main screen: header, task, the editable files, live runs and history, and the edits
of a session (save, undo); its run actions (test, cancel, submit) are in run_actions, the
working clock and notes in work_actions."""

from __future__ import annotations

import time
from typing import Callable

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, TextArea

from sessions.engine import Session
from sessions.errors import Refused
from sessions.worktime import TICK_SECONDS, WorkClock, clock_text
from tui.model import activity_text, budget_text, profile_note, run_end_notice
from tui.notices import show_refusal
from tui.screens.results import FinalResultsScreen, LeaderboardScreen
from tui.screens.run_actions import RunActions
from tui.screens.work_actions import WorkActions
from tui.widgets.editor import GuardedEditor
from tui.widgets.files import DiskChanged, FilesPane
from tui.widgets.header import SessionHeader
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


class MainScreen(RunActions, WorkActions, Screen):
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
