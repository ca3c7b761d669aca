"""The main screen: header, task, editor, live runs and history; every action of a session."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane, TextArea

from sessions.disk_sync import UNREADABLE
from sessions.errors import Refused
from sessions.events import DONE, FAILED, QUEUED, RUNNING, RunKey, SettingStatus
from sessions.settings import current_settings
from sessions.state import RunRecord
from tui.bridge import Batch
from tui.model import (
    budget_text,
    elapsed_text,
    number_text,
    profile_note,
    read_curves,
    read_log_tail,
    run_log_path,
    status_text,
)
from tui.screens.dialogs import ConfirmDialog, MessageDialog, SubmitDialog
from tui.screens.results import FinalResultsScreen, LeaderboardScreen
from tui.widgets.editor import GuardedEditor
from tui.widgets.header import SessionHeader
from tui.widgets.history import HistoryPanel
from tui.widgets.runs import MAX_LOG_LINES, SettingPanel
from tui.widgets.task_pane import TaskPane

if TYPE_CHECKING:
    from tui.app import MlsBenchApp

MAX_STASHED_METRICS = 5000  # metrics rows kept per setting while events wait (the plot thins them anyway)
TYPING_PAUSE = 0.25  # seconds after a key press during which the timer's redraws wait
# The header changes every second (clock, progress counts). Not faster: at the top of the
# screen, any change to it in the same frame as the logs at the bottom makes Textual repaint
# everything between (the editor, the task), the most expensive frames there are.
HEADER_INTERVAL = 1.0
DRAIN_HZ = 10  # engine events are drained into the widgets this often
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
LAYOUTS = ("even", "logs", "editor")
LAYOUT_NAMES = {"even": "editor and logs", "logs": "logs only (editor hidden)", "editor": "editor only (logs hidden)"}
LINE_EDITORS = {"vi", "vim", "nvim", "nano", "emacs", "micro", "kak", "hx", "helix", "joe", "jed", "mg"}


def _safe_id(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


class DiskChanged(Message):
    """The workspace watcher saw an editable file change (posted from its thread)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class MainScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("f5,ctrl+t", "test", "Test", priority=True),
        Binding("f8,ctrl+b", "cancel_run", "Cancel", priority=True),
        Binding("ctrl+z", "undo_edit", "Undo", show=False),  # F1 lists it: the footer is full at 100 columns
        Binding("f4,ctrl+o", "external_editor", "$EDITOR", priority=True),
        Binding("f9,ctrl+g", "submit", "Submit", priority=True),
        Binding("f3,ctrl+l", "leaderboard", "Board", priority=True),
        Binding("f2", "toggle_task", "Task", priority=True),
        Binding("f7", "next_run_tab", "Logs", priority=True),
        Binding("f6", "cycle_layout", "Layout", priority=True, show=False),
        Binding("ctrl+n", "focus_pane(1)", "Pane", tooltip="Focus the next pane", priority=True),
        Binding("ctrl+p", "focus_pane(-1)", "Previous pane", priority=True, show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.preflight: str | None = None  # what the preflight is for, while it runs
        self.cancelling = False
        self.panels: dict[str, SettingPanel] = {}
        self._stash = Batch()  # events for panels not mounted yet, or held while keys come
        self._last_draw = 0.0  # monotonic time the stream was last drawn
        self._behind_key_pending = False
        self._last_refusal: tuple[str, float] = ("", 0.0)
        self._layout = 0
        self._disk_timers: dict[str, object] = {}
        self.external_editing = False
        self._spin = 0
        self._seen_runs: set[RunKey] = set()

    @property
    def mls(self) -> MlsBenchApp:
        return self.app  # type: ignore[return-value]

    @property
    def session(self):
        return self.mls.session

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        session = self.session
        task = session.task
        yield SessionHeader(id="header")
        with Horizontal(id="body"):
            yield TaskPane(task.description, id="task")
            with Vertical(id="work"):
                with Vertical(id="editor-pane"):
                    with TabbedContent(id="files"):
                        for path in session.editable_paths:
                            state = session.file_state(path)
                            with TabPane(path, id=f"file-{_safe_id(path)}"):
                                yield GuardedEditor(
                                    path, state.text, state.lines, state.ranges,
                                    cursor_blink=self.mls.animate, id=f"editor-{_safe_id(path)}",
                                )
                with TabbedContent(id="runs"):
                    for setting in self._panel_settings():
                        with TabPane(setting.label, id=f"run-{_safe_id(setting.label)}"):
                            yield self._make_panel(setting.label)
                    with TabPane("History", id="history-pane"):
                        yield HistoryPanel(session, id="history")
        yield Footer(compact=True)

    def _panel_settings(self):
        settings = list(self.session.settings(hidden=False))
        if self.session.state.submission is not None:
            settings += self.session.settings(hidden=True)
        return settings

    def _make_panel(self, label: str) -> SettingPanel:
        comparable = self.session.task.profiles[self.session.profile].comparable
        panel = SettingPanel(label, self.session.task, show_baselines=comparable, id=f"panel-{_safe_id(label)}")
        self.panels[label] = panel
        return panel

    def on_mount(self) -> None:
        session = self.session
        if len(session.editable_paths) == 1:
            self.query_one("#files", TabbedContent).add_class("single")
        for editor in self.editors():
            editor.read_only = session.state.closed
            self._label_file(editor)
        self.refresh_header()
        self.set_interval(1 / DRAIN_HZ, self.drain)
        self.set_interval(HEADER_INTERVAL, self.tick_header)
        editors = self.editors()
        if editors:
            editors[0].focus()
        self._load_history_from_disk()
        if session.resume_warning:
            self.notify(session.resume_warning, title="Journal", severity="warning", timeout=10)
        active = session.state.active_run()
        if active is not None and session.controller is None:
            self._reattach(active.key)
        for path in session.editable_paths:
            self.check_disk(path, source="another editor (while the app was closed)")
        if session.state.closed:
            self.call_after_refresh(self.app.push_screen, FinalResultsScreen(session))

    # -- small helpers --------------------------------------------------------------------------
    def editors(self) -> list[GuardedEditor]:
        return list(self.query(GuardedEditor))

    def editor_for(self, path: str) -> GuardedEditor | None:
        return next((e for e in self.editors() if e.path == path), None)

    def active_editor(self) -> GuardedEditor | None:
        files = self.query_one("#files", TabbedContent)
        pane = files.active_pane
        if pane is not None:
            found = list(pane.query(GuardedEditor))
            if found:
                return found[0]
        editors = self.editors()
        return editors[0] if editors else None

    def _label_file(self, editor: GuardedEditor) -> None:
        files = self.query_one("#files", TabbedContent)
        mark = " ●" if editor.dirty else ""
        ro = " (read-only)" if editor.read_only else ""
        files.get_tab(f"file-{_safe_id(editor.path)}").label = f"{editor.path}{mark}{ro}"
        pane = self.query_one("#editor-pane")
        single = len(self.session.editable_paths) == 1
        name = f"{editor.path}{mark}{ro} · " if single else ""
        pane.border_title = name + editor.legend()
        pane.border_subtitle = "● unsaved · ctrl+s saves to the session" if editor.dirty else ""

    def show_refusal(self, title: str, message: str) -> None:
        """Every refusal from the engine ends here: a notice, or a dialog when it is long."""
        if "\n" in message.strip() or len(message) > 160:
            self.app.push_screen(MessageDialog(title, message))
        else:
            self.notify(message, title=title, severity="error", timeout=8)

    def _run_word(self, key: RunKey) -> str:
        return f"Test #{key.n}" if key.phase == "test" else f"The submission of test #{key.n}"

    # -- the header -----------------------------------------------------------------------------
    def tick_header(self) -> None:
        if not self.typing():  # like the stream, the clock waits while the person types
            self.refresh_header()

    def typing(self) -> bool:
        return time.monotonic() - self.mls.last_key < TYPING_PAUSE

    def refresh_header(self) -> None:
        session = self.session
        task = session.task
        header = self.query_one(SessionHeader)
        header.set_title(f"{task.id} · {task.title}")
        text, level = budget_text(session.state)
        header.set_budget(text, level)
        comparable = task.profiles[session.profile].comparable
        created = session.meta.get("created_at")
        try:
            started = datetime.fromisoformat(created).timestamp() if created else time.time()
        except ValueError:
            started = time.time()
        elapsed = elapsed_text(self.mls.clock() - started)
        header.set_elapsed(elapsed)
        header.set_facts(f"{profile_note(task, session.profile)} · seed {session.seed} · session {session.id}", comparable)
        activity, busy = self._activity()
        header.set_activity(activity, busy)

    def _activity(self) -> tuple[str, bool]:
        self._spin += 1
        spin = SPINNER[self._spin % len(SPINNER)] if self.mls.animate else "…"
        if self.preflight:
            return f"{spin} {self.preflight}: preflight check…", True
        if self.cancelling:
            return f"{spin} cancelling…", True
        active = self.session.state.active_run()
        if active is not None:
            parts = []
            for s in active.settings.values():
                panel = self.panels.get(s.label)
                word = s.status
                if panel is not None and s.status == RUNNING and panel.progress is not None:
                    done, total = panel.progress[:2]
                    word = f"{number_text(done)}/{number_text(total)}"
                parts.append(f"{s.label} {word}")
            return f"▶ {active.key}: " + ", ".join(parts), True
        if self.session.state.closed:
            return "session closed · F9 shows the final table", False
        return "ready", False

    # -- draining engine events -------------------------------------------------------------------
    def drain(self, behind_key: bool = False) -> None:
        """Engine events into the widgets: on the timer, at once for urgent events, and
        right behind a key's screen update (`behind_key`).

        Keys first: while the person types, the timer's draws wait, so a key's screen
        update is not held up by a frame of logs and plots; the stream is drawn instead
        right after each key's update (at most DRAIN_HZ times a second), in the gap
        before the next key.
        """
        batch = self.mls.pump.drain()
        if not self._stash.empty:
            batch = self._merge(self._stash, batch)
            self._stash = Batch()
        now = time.monotonic()
        held = now - self._last_draw < 1 / DRAIN_HZ if behind_key else self.typing()
        if held and not batch.urgent:
            self._stash = batch  # (it already holds what was stashed before)
            return
        self._last_draw = now
        if not batch.empty:
            self._apply(batch)
        active = self.query_one("#runs", TabbedContent).active
        for label, panel in self.panels.items():
            if panel.is_mounted:
                panel.tick(active == f"run-{_safe_id(label)}", typing=behind_key or self.typing())

    @staticmethod
    def _merge(old: Batch, new: Batch) -> Batch:
        for key, buf in new.lines.items():
            if key in old.lines:
                old.lines[key].lines.extend(buf.lines)
                old.lines[key].dropped += buf.dropped
            else:
                old.lines[key] = buf
        for key, rows in new.metrics.items():
            kept = old.metrics.setdefault(key, [])
            kept.extend(rows)
            del kept[:-MAX_STASHED_METRICS]
        old.progress.update(new.progress)
        old.statuses.extend(new.statuses)
        old.finished.extend(new.finished)
        old.changed.extend(new.changed)
        return old

    def _panel(self, key: RunKey, label: str) -> SettingPanel | None | bool:
        """The panel for an event; None: not mounted yet (keep the event); False: stale."""
        panel = self.panels.get(label)
        if panel is None:
            self._add_panel(label)
            return None
        if not panel.is_mounted:
            return None
        if panel.run_key != key:
            if panel.run_key is not None and not self._newer(key, panel.run_key):
                return False  # a late event of an older run
            self._start_panel(panel, key)
        return panel

    @staticmethod
    def _newer(a: RunKey, b: RunKey) -> bool:
        order = {"test": 0, "submit": 1}
        return (order[a.phase], a.n) > (order[b.phase], b.n)

    def _start_panel(self, panel: SettingPanel, key: RunKey) -> None:
        previous, name = [], ""
        if key.phase == "test" and key.n > 1:
            prev_key = RunKey("test", key.n - 1)
            name = str(prev_key)
            if panel.run_key == prev_key:
                previous = panel.curve.points
            else:
                previous = read_curves(run_log_path(self.session, prev_key, panel.label))
        panel.start_run(key, previous, name)
        self._tab_label(panel.label, QUEUED)

    def _apply(self, batch: Batch) -> None:
        stash = Batch()  # what waits for its panel to be mounted
        for status in batch.statuses:
            if not self._deliver(status.run, status.label, lambda p, s=status: self._show_status(p, s)):
                stash.statuses.append(status)
        for key, buf in batch.lines.items():
            if not self._deliver(*key, lambda p, b=buf: p.queue_lines(list(b.lines), b.dropped)):
                stash.lines[key] = buf
        for key, rows in batch.metrics.items():
            if not self._deliver(*key, lambda p, r=rows: p.add_metrics(r)):
                stash.metrics[key] = rows
        for key, pr in batch.progress.items():
            if not self._deliver(*key, lambda p, e=pr: p.set_progress(e.done, e.total, e.unit, e.eta_seconds)):
                stash.progress[key] = pr
        for finished in batch.finished:
            self._run_finished(finished.run)
        if batch.changed:
            self.refresh_state()
        if not stash.empty:
            self._stash = self._merge(stash, self._stash)
        if batch.urgent:
            self.refresh_header()  # progress counts alone wait for the header's own tick

    def _deliver(self, key: RunKey, label: str, show: Callable[[SettingPanel], None]) -> bool:
        """Show an event on its setting's panel (a stale run's is dropped); False when
        that panel is not mounted yet, so the event must be kept for the next drain."""
        panel = self._panel(key, label)
        if isinstance(panel, SettingPanel):
            show(panel)
        return panel is not None

    def _show_status(self, panel: SettingPanel, status: SettingStatus) -> None:
        panel.set_status(status.status, status.exit_code, status.detail)
        self._tab_label(status.label, status.status, status.exit_code)

    def _tab_label(self, label: str, status: str, exit_code: int | None = None) -> None:
        runs = self.query_one("#runs", TabbedContent)
        try:
            tab = runs.get_tab(f"run-{_safe_id(label)}")
        except Exception:
            return
        hidden = " (hidden)" if any(s.label == label for s in self.session.settings(hidden=True)) else ""
        text = status_text(status, exit_code)
        tab.label = Text.assemble(f"{label}{hidden} ", (text, {FAILED: "red", DONE: "green", RUNNING: "cyan"}.get(status, "")))

    def _add_panel(self, label: str) -> None:
        if label in self.panels:
            return
        panel = self._make_panel(label)
        runs = self.query_one("#runs", TabbedContent)
        runs.add_pane(TabPane(f"{label} (hidden)", panel, id=f"run-{_safe_id(label)}"), before="history-pane")

    def refresh_state(self) -> None:
        self.query_one(HistoryPanel).refresh_tests()
        closed = self.session.state.closed
        for editor in self.editors():
            if editor.read_only != closed:
                editor.read_only = closed
                self._label_file(editor)
        self.refresh_header()

    def _run_finished(self, key: RunKey) -> None:
        self.refresh_state()
        self.cancelling = False
        state = self.session.state
        try:
            record = state.run(key)
        except (AssertionError, IndexError):
            return
        results = record.results()
        summary = ", ".join(f"{k}={v}" for k, v in results.items()) or "no results"
        failed = [s.label for s in record.settings.values() if s.status != DONE]
        if key.phase == "test":
            left = state.budget_left
            tail = f"{left} test{'s' if left != 1 else ''} left" if left else "no tests left: F9 to submit one"
            severity = "warning" if failed else "information"
            extra = f" Not done: {', '.join(failed)}." if failed else ""
            self.notify(f"{summary}.{extra} {tail}.", title=f"Test #{key.n} finished", severity=severity, timeout=10)
        else:
            self.notify(summary, title="Submission finished", timeout=10)
            self.app.push_screen(FinalResultsScreen(self.session))

    # -- loading past runs from disk ---------------------------------------------------------------
    @work(thread=True, group="history", exit_on_error=False)
    def _load_history_from_disk(self) -> None:
        session = self.session
        state = session.state
        loads = []
        active = state.active_run()
        runs: list[RunRecord] = []
        if state.tests:
            runs.append(state.tests[-1])
        if state.submission is not None:
            runs.append(state.submission)
        for record in runs:
            for label, setting in record.settings.items():
                path = run_log_path(session, record.key, label)
                previous: list[dict[str, float]] = []
                if record.key.phase == "test" and record.key.n > 1:
                    previous = read_curves(run_log_path(session, RunKey("test", record.key.n - 1), label))
                if record is active:  # re-attached: its lines arrive as events
                    loads.append((record.key, label, setting.status, setting.exit_code, [], False, [], previous))
                    continue
                lines, cut = read_log_tail(path, MAX_LOG_LINES)
                rows = read_curves(path)
                loads.append((record.key, label, setting.status, setting.exit_code, lines, cut, rows, previous))
        try:
            self.app.call_from_thread(self._apply_history, loads)
        except Exception:
            pass

    def _apply_history(self, loads) -> None:
        for key, label, status, exit_code, lines, cut, rows, previous in loads:
            panel = self.panels.get(label)
            if panel is None or not panel.is_mounted or panel.run_key is not None:
                continue
            prev_name = f"test #{key.n - 1}" if previous else ""
            panel.start_run(key, previous, prev_name)
            panel.set_status(status, exit_code)
            self._tab_label(label, status, exit_code)
            panel.load_history(lines, cut, rows)
            if rows and key.phase == "test":
                last = rows[-1]
                unit = "epoch" if "epoch" in last else None
                if unit:
                    done = last[unit]
                    panel.set_progress(done, done, unit, None)

    # -- actions: editing -----------------------------------------------------------------------------
    def save_all(self, quiet: bool = False) -> bool:
        """Apply every unsaved editor to the engine; False if one was refused."""
        ok = True
        for editor in self.editors():
            if not editor.dirty:
                continue
            try:
                message = self.session.replace_text(editor.path, editor.text)
            except Refused as exc:
                self.show_refusal(f"Not saved: {editor.path}", str(exc))
                ok = False
                continue
            editor.mark_saved(self.session.file_state(editor.path).ranges)
            self._label_file(editor)
            if message and not quiet:
                self.notify(message, title="Saved (journaled)", timeout=5)
        self.refresh_header()
        return ok

    def action_save(self) -> None:
        if not any(e.dirty for e in self.editors()):
            self.notify("Nothing to save: the editor matches the session.", timeout=3)
            return
        self.save_all()

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
        try:
            message = self.session.undo()
        except Refused as exc:
            self.show_refusal("Nothing undone", str(exc))
            return
        self.reload_editors()
        self.notify(message, title="Undo (journaled)", timeout=5)
        self.refresh_header()

    def reload_editors(self) -> None:
        for editor in self.editors():
            state = self.session.file_state(editor.path)
            if editor.text != state.text or editor.ranges != state.ranges:
                editor.show_saved(state.text, state.ranges)
            self._label_file(editor)

    @on(GuardedEditor.Refused)
    def _edit_refused(self, event: GuardedEditor.Refused) -> None:
        message, when = self._last_refusal
        now = time.monotonic()
        if message == event.message and now - when < 1.5:
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
        self.drain(behind_key=True)

    @on(GuardedEditor.DirtyChanged)
    def _dirty_changed(self, event: GuardedEditor.DirtyChanged) -> None:
        self._label_file(event.editor)

    @on(TabbedContent.TabActivated, "#files")
    def _file_tab(self, event: TabbedContent.TabActivated) -> None:
        editor = self.active_editor()
        if editor is not None:
            self._label_file(editor)

    # -- external edits ---------------------------------------------------------------------------------
    def action_external_editor(self) -> None:
        editor = self.active_editor()
        if editor is None:
            return
        if self.session.state.closed:
            self.show_refusal("Read-only", f"session {self.session.id} is closed: test #{self.session.state.submitted_test} was submitted")
            return
        if editor.dirty and not self.save_all(quiet=True):
            return
        command = current_settings().editor
        if not command:
            command = "vi" if shutil.which("vi") else ""
        if not command:
            self.show_refusal("No editor", "set $EDITOR (for example: export EDITOR=nano) to edit the file outside the app")
            return
        target = self.session.workspace / editor.path
        argv = shlex.split(command)
        if Path(argv[0]).name in LINE_EDITORS and editor.ranges:
            argv.append(f"+{editor.ranges[0].start}")
        argv.append(str(target))
        self.external_editing = True
        try:
            try:
                with self.app.suspend():
                    code = subprocess.call(argv)
            except SuspendNotSupported:  # no terminal to hand over (tests, web): run it as it is
                code = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            self.show_refusal("Editor failed", f"could not run {command!r}: {exc}")
            return
        finally:
            self.external_editing = False
        if code != 0:
            self.notify(f"{argv[0]} exited with status {code}; checking the file anyway", severity="warning")
        if not self.check_disk(editor.path, source=Path(argv[0]).name):
            self.notify("No change to the editable lines.", timeout=3)

    @on(DiskChanged)
    def _disk_changed(self, event: DiskChanged) -> None:
        timer = self._disk_timers.pop(event.path, None)
        if timer is not None:
            timer.stop()  # type: ignore[attr-defined]
        self._disk_timers[event.path] = self.set_timer(0.2, lambda: self._disk_settled(event.path))

    def _disk_settled(self, path: str) -> None:
        self._disk_timers.pop(path, None)
        if not self.external_editing:
            self.check_disk(path, source="another editor")

    def check_disk(self, path: str, source: str) -> bool:
        """Have the engine take in, or put back, a change saved to the workspace file, and say
        which. True when the disk differed from the session."""
        editor = self.editor_for(path)
        unsaved = editor.text if editor is not None and editor.dirty else None
        outcome = self.session.reconcile_disk(path, unsaved)
        if outcome.refusal:
            unreadable = outcome.outcome == UNREADABLE
            self.show_refusal("Workspace file unreadable" if unreadable else f"Change from {source} refused", outcome.refusal)
        elif outcome.changed:
            if editor is not None:
                state = self.session.file_state(path)
                editor.show_saved(state.text, state.ranges)
                self._label_file(editor)
            note = f" The app's unsaved version was replaced; it is kept in {outcome.kept}." if outcome.kept else ""
            self.notify(f"{outcome.message or 'recorded'}{note}", title=f"Change from {source} accepted", timeout=6)
            self.refresh_header()
        return outcome.changed

    # -- actions: tests ----------------------------------------------------------------------------------
    def action_test(self) -> None:
        session = self.session
        state = session.state
        if self.preflight:
            self.notify(f"The preflight for {self.preflight} is still running.", timeout=3)
            return
        if state.closed or state.active_run() is not None or state.budget_left <= 0:
            self._start_test()  # the engine says why not, in its words
            return
        n = len(state.tests) + 1
        left = state.budget_left
        labels = ", ".join(s.label for s in session.settings(hidden=False))
        dirty = [e.path for e in self.editors() if e.dirty]
        lines = [
            f"This spends 1 of your {left} remaining test{'s' if left != 1 else ''} "
            f"({left - 1} will be left), also if the run fails or is cancelled.",
            f"It runs {labels} on your code (profile {session.profile}, seed {session.seed}).",
            "A preflight check runs first; if it refuses, nothing is spent.",
        ]
        if dirty:
            lines.append(f"Unsaved changes in {', '.join(dirty)} are saved first.")
        if left == 1:
            lines.append("This is your last test: afterwards you submit one of your tests.")

        def confirmed(yes: bool | None) -> None:
            if yes:
                if dirty and not self.save_all(quiet=True):
                    return
                self._start_test()

        self.app.push_screen(ConfirmDialog(f"Run test #{n}?", "\n".join(lines), confirm=f"Run test #{n}"), confirmed)

    def _start_test(self) -> None:
        state = self.session.state
        self.preflight = f"test #{len(state.tests) + 1}"
        self.refresh_header()
        self._engine_call(self.session.start_test, "The test was not started")

    @work(thread=True, group="engine", exit_on_error=False)
    def _engine_call(self, call: Callable[[], object], refused_title: str) -> None:
        try:
            call()
        except Refused as exc:
            self.app.call_from_thread(self.show_refusal, refused_title, str(exc))
        except Exception as exc:  # never a traceback on screen
            self.app.call_from_thread(self.show_refusal, refused_title, f"unexpected error: {exc!r}")
        finally:
            try:
                self.app.call_from_thread(self._engine_call_done)
            except Exception:
                pass

    def _engine_call_done(self) -> None:
        self.preflight = None
        self.refresh_state()

    def _reattach(self, key: RunKey) -> None:
        self.notify(f"{self._run_word(key)} kept running while the app was closed; following it again.",
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

        what = self._run_word(active.key)
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
            self.app.call_from_thread(self.show_refusal, "Not cancelled", str(exc))
        except Exception as exc:
            self.app.call_from_thread(self.show_refusal, "Not cancelled", f"unexpected error: {exc!r}")

    # -- actions: submit, screens ---------------------------------------------------------------------------
    def action_submit(self) -> None:
        session = self.session
        state = session.state
        if state.closed:
            self.app.push_screen(FinalResultsScreen(session))
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
            record = state.tests[n - 1]
            hidden = ", ".join(s.label for s in session.settings(hidden=True)) or "no hidden settings"
            body = [f"Test #{n} becomes your final answer; its code now runs on {hidden}."]
            if not record.results():
                body.append(f"Warning: test #{n} has no results ({record.feedback and 'it did not finish' or 'no metrics'}).")
            unspent = state.budget_left
            if unspent:
                body.append(f"You still have {unspent} test{'s' if unspent != 1 else ''} left; they are given up.")
            body.append("The session then closes: no more edits or tests.")
            self.app.push_screen(
                ConfirmDialog(f"Submit test #{n}?", "\n".join(body), confirm=f"Submit test #{n}", danger=True),
                lambda yes: self._start_submit(n) if yes else None,
            )

        self.app.push_screen(SubmitDialog(session), chosen)

    def _start_submit(self, n: int) -> None:
        for setting in self.session.settings(hidden=True):
            self._add_panel(setting.label)
        self.preflight = f"submission of test #{n}"
        self.refresh_header()
        self._engine_call(lambda: self.session.start_submit(n), "Not submitted")
        hidden = self.session.settings(hidden=True)
        if hidden:
            runs = self.query_one("#runs", TabbedContent)
            self.call_after_refresh(setattr, runs, "active", f"run-{_safe_id(hidden[0].label)}")

    def action_leaderboard(self) -> None:
        self.app.push_screen(LeaderboardScreen(self.session))

    def action_toggle_task(self) -> None:
        self.query_one(TaskPane).toggle_class("collapsed")
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
        runs = self.query_one("#runs", TabbedContent)
        chain = self.focus_chain  # displayed widgets only: a hidden pane is skipped
        panes = [p for p in (self.query_one(TaskPane), self.query_one("#editor-pane"), runs.active_pane or runs)
                 if any(w is p or p in w.ancestors for w in chain)]
        if not panes:
            return
        focused = self.focused
        current = next((i for i, p in enumerate(panes) if focused is not None and (focused is p or p in focused.ancestors)), -1 if step > 0 else 0)
        pane = panes[(current + step) % len(panes)]
        next(w for w in chain if w is pane or pane in w.ancestors).focus()

    def action_next_run_tab(self) -> None:
        runs = self.query_one("#runs", TabbedContent)
        panes = [p.id for p in runs.query(TabPane) if p.id and p.parent is not None and p.id.startswith(("run-", "history"))]
        if panes:
            current = panes.index(runs.active) if runs.active in panes else -1
            runs.active = panes[(current + 1) % len(panes)]

    def show_run_tab(self, label: str) -> None:
        self.query_one("#runs", TabbedContent).active = f"run-{_safe_id(label)}"
