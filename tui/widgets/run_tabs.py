"""The live runs: one tab per setting (and the history), fed by the engine's events.

RunTabs subscribes to the session when it is mounted and drains the events into its
setting panels on a timer (DRAIN_HZ), at once for urgent events (a status, a run's
end, a session change), and right behind a key's screen update (`drain(behind_key=True)`,
called by the screen). What the rest of the app must know it posts upward as messages:
`RunEnded` and `StateChanged`.

Each setting's tab has one `SettingTab` record (its status, whether it is hidden); the
tab's title is derived from it in one place, `_relabel`. A tab shows its setting's state in
the current run: the session's state is the truth (`sync_with_state`), the events bring it
live; "preflight" is the app's own, while a run's preflight check decides whether it starts.

The ghosts (opponents' re-scored curves, `tui.ghosts`) are read off the UI thread at mount,
and again every REREAD_S: a re-score finished in another terminal shows while one plays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import TabbedContent, TabPane

from sessions.engine import Session
from sessions.events import DONE, FAILED, QUEUED, RUNNING, RunKey, SettingStatus
from sessions.rescore_store import default_results_dir
from sessions.state import RunRecord, SettingRecord
from tui.bridge import Batch, EventPump
from tui.eta import RunningEstimate, whole_test_eta
from tui.ghosts import OPPONENTS_REREAD_S, SettingGhosts, load_ghosts
from tui.model import PREFLIGHT, read_curves, run_log_path, run_metrics_path, safe_id, status_text
from tui.widgets.history import HistoryPanel
from tui.widgets.runs import SettingPanel

DRAIN_HZ = 10  # engine events are drained into the widgets this often
TYPING_PAUSE = 0.25  # seconds after a key press during which the timer's redraws wait
TAB_COLOURS = {FAILED: "red", DONE: "green", RUNNING: "cyan", PREFLIGHT: "yellow"}


def tab_id(label: str) -> str:
    return f"run-{safe_id(label)}"


def newer(a: RunKey, b: RunKey) -> bool:
    order = {"test": 0, "submit": 1}
    return (order[a.phase], a.n) > (order[b.phase], b.n)


@dataclass
class SettingTab:
    """What a setting's tab shows in its title; the place for per-setting state."""

    label: str
    hidden: bool
    panel: SettingPanel
    status: str | None = None  # None: no run yet
    exit_code: int | None = None

    def title(self) -> Text:
        name = f"{self.label} (hidden)" if self.hidden else self.label
        status = PREFLIGHT if self.panel.preflight else self.status
        if status is None:
            return Text(name)
        return Text.assemble(f"{name} ", (status_text(status, self.exit_code), TAB_COLOURS.get(status, "")))


@dataclass
class HistoryLoad:
    """A finished (or re-attached) run's setting, read from disk by a worker thread."""

    key: RunKey
    label: str
    status: str
    exit_code: int | None
    rows: list[dict[str, float]]
    previous: list[dict[str, float]]


class Wake(Message):
    """Drain the engine events now; wakes that pile up merge into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Wake)


class RunTabs(TabbedContent):
    REREAD_S = OPPONENTS_REREAD_S

    class RunEnded(Message):
        """A test or the submission finished (the session's state already says how)."""

        def __init__(self, key: RunKey) -> None:
            super().__init__()
            self.key = key

    class StateChanged(Message):
        """A setting's status changed (`session_changed`: the session's state did too)."""

        def __init__(self, session_changed: bool) -> None:
            super().__init__()
            self.session_changed = session_changed

    def __init__(self, session: Session, *, quiet_for: Callable[[], float], id: str | None = None) -> None:
        """quiet_for: seconds since the person last pressed a key (streaming yields to typing)."""
        super().__init__(id=id)
        self.session = session
        self.quiet_for = quiet_for
        self.tabs: dict[str, SettingTab] = {}
        self.pump = EventPump(wake=self._wake)
        self._stash = Batch()  # events for panels not mounted yet, or held while keys come
        self._last_draw = 0.0  # monotonic time the stream was last drawn
        self.ghosts: dict[str, SettingGhosts] | None = None  # by setting label, once read
        self.ghosts_shown = True
        settings = list(session.settings(hidden=False))
        if session.state.submission is not None:
            settings += session.settings(hidden=True)
        for setting in settings:
            self.compose_add_child(self._new_pane(setting.label))
        self.compose_add_child(TabPane("History", HistoryPanel(session, id="history"), id="history-pane"))

    @property
    def panels(self) -> dict[str, SettingPanel]:
        return {label: tab.panel for label, tab in self.tabs.items()}

    def _new_pane(self, label: str) -> TabPane:
        profile = self.session.profile
        comparable = self.session.task.profiles[profile].comparable
        panel = SettingPanel(label, self.session.task, profile=profile, show_baselines=comparable,
                             id=f"panel-{safe_id(label)}")
        panel.ghosts = self.ghosts.get(label, SettingGhosts()) if self.ghosts is not None else None
        panel.ghosts_shown = self.ghosts_shown
        hidden = any(s.label == label for s in self.session.settings(hidden=True))
        tab = self.tabs[label] = SettingTab(label, hidden, panel)
        return TabPane(tab.title().plain, panel, id=tab_id(label))

    def on_mount(self) -> None:
        self.session.subscribe(self.pump, lines_per_event=0)  # the log views read the log files themselves
        self.set_interval(1 / DRAIN_HZ, self.drain)
        self._load_history_from_disk()
        self._load_ghosts()
        self.set_interval(self.REREAD_S, self._load_ghosts)
        self.call_after_refresh(self.sync_with_state)  # a run going on (re-attached): its tabs at once

    def on_unmount(self) -> None:
        self.pump.stop()

    def _wake(self) -> None:
        """An urgent engine event (any thread): drain now rather than at the next tick."""
        try:
            self.post_message(Wake())
        except Exception:
            pass

    def on_wake(self, message: Wake) -> None:
        message.stop()
        self.drain()

    # -- the tabs -------------------------------------------------------------------------
    def add_setting(self, label: str) -> None:
        """A tab for a setting that has none yet (the hidden ones, when a submission starts)."""
        if label not in self.tabs:
            self.add_pane(self._new_pane(label), before="history-pane")

    def show_setting(self, label: str) -> None:
        self.active = tab_id(label)

    def next_tab(self) -> None:
        panes = [p.id for p in self.query(TabPane) if p.id and p.parent is not None]
        if panes:
            current = panes.index(self.active) if self.active in panes else -1
            self.active = panes[(current + 1) % len(panes)]

    def progress(self, label: str) -> tuple[float, float] | None:
        """(done, total) of a setting while it runs, for the header."""
        tab = self.tabs.get(label)
        if tab is None or tab.panel.status != RUNNING or tab.panel.progress is None:
            return None
        return tab.panel.progress[0], tab.panel.progress[1]

    def set_status(self, label: str, status: str, exit_code: int | None = None, detail: str = "") -> None:
        tab = self.tabs[label]
        tab.status, tab.exit_code = status, exit_code
        tab.panel.set_status(status, exit_code, detail)
        self._relabel(tab)

    def _relabel(self, tab: SettingTab) -> None:
        try:
            self.get_tab(tab_id(tab.label)).label = tab.title()
        except Exception:  # its tab is not mounted yet: the pane's title is used then
            pass

    # -- draining engine events -------------------------------------------------------------
    def typing(self) -> bool:
        return self.quiet_for() < TYPING_PAUSE

    def drain(self, behind_key: bool = False) -> None:
        """Engine events into the panels: on the timer, at once for urgent events, and
        right behind a key's screen update (`behind_key`).

        Keys first: while the person types, the timer's draws wait, so a key's screen
        update is not held up by a frame of logs and plots; the stream is drawn instead
        right after each key's update (at most DRAIN_HZ times a second), in the gap
        before the next key.
        """
        batch = self.pump.drain()
        if not self._stash.empty:
            batch = self._stash.merge(batch)
            self._stash = Batch()
        now = time.monotonic()
        held = now - self._last_draw < 1 / DRAIN_HZ if behind_key else self.typing()
        if held and not batch.urgent:
            self._stash = batch  # (it already holds what was stashed before)
            return
        self._last_draw = now
        if not batch.empty:
            self._apply(batch)
        typing = behind_key or self.typing()
        for label, tab in self.tabs.items():
            if tab.panel.is_mounted:
                tab.panel.tick(self.active == tab_id(label), typing=typing)

    def _apply(self, batch: Batch) -> None:
        stash = Batch()  # what waits for its panel to be mounted
        for status in batch.statuses:
            if not self._deliver(status.run, status.label, lambda p, s=status: self._show_status(s)):
                stash.statuses.append(status)
        for key, rows in batch.metrics.items():
            if not self._deliver(*key, lambda p, r=rows: p.add_metrics(r)):
                stash.metrics[key] = rows
        for key, pr in batch.progress.items():
            if not self._deliver(*key, lambda p, e=pr: p.set_progress(e.done, e.total, e.unit, e.eta_seconds)):
                stash.progress[key] = pr
        if not stash.empty:
            self._stash = stash.merge(self._stash)
        if batch.urgent:
            self.sync_with_state()
        for finished in batch.finished:
            self.post_message(self.RunEnded(finished.run))
        if batch.urgent:
            self.post_message(self.StateChanged(session_changed=bool(batch.changed)))

    def _deliver(self, key: RunKey, label: str, show: Callable[[SettingPanel], None]) -> bool:
        """Show an event on its setting's panel (a stale run's is dropped); False when
        that panel is not mounted yet, so the event must be kept for the next drain."""
        panel = self._panel(key, label)
        if isinstance(panel, SettingPanel):
            show(panel)
        return panel is not None

    def _panel(self, key: RunKey, label: str) -> SettingPanel | None | bool:
        """The panel for an event; None: not mounted yet (keep the event); False: stale."""
        tab = self.tabs.get(label)
        if tab is None:
            self.add_setting(label)
            return None
        panel = tab.panel
        if not panel.is_mounted:
            return None
        if panel.run_key != key:
            if panel.run_key is not None and not newer(key, panel.run_key):
                return False  # a late event of an older run
            self._start_panel(panel, key)
        return panel

    def _start_panel(self, panel: SettingPanel, key: RunKey, *, followed: bool = False) -> None:
        """A panel takes a new run: cleared, compared with the previous test, and showing the
        setting's recorded state (`followed`: found running by `sync_with_state`, not by its
        own event: say its output follows)."""
        previous, name = [], ""
        if key.phase == "test" and key.n > 1:
            prev_key = RunKey("test", key.n - 1)
            name = str(prev_key)
            if panel.run_key == prev_key:
                previous = panel.curve.points
            else:
                previous = read_curves(run_metrics_path(self.session, prev_key, panel.label))
        panel.start_run(key, run_log_path(self.session, key, panel.label), previous, name)
        record = self._recorded(key, panel.label)
        status = record.status if record is not None else QUEUED
        if status == QUEUED:
            slots = len(self.session.slot_envs)
            panel.set_waiting(f"{key} · starts when a slot is free ({slots} setting{'s' * (slots != 1)} at a time)")
        elif status == RUNNING and followed:
            panel.note(f"{key} is running: its output follows")
        self.set_status(panel.label, status, record.exit_code if record else None, record.detail if record else "")

    def _recorded(self, key: RunKey, label: str) -> SettingRecord | None:
        try:
            return self.session.state.run(key).settings.get(label)
        except (AssertionError, IndexError):
            return None

    def sync_with_state(self) -> None:
        """Every setting of the run going on shows that run (queued ones too: the engine
        tells nothing of a setting until it starts), never a "No test yet" nor the
        previous test's state."""
        active = self.session.state.active_run()
        if active is None:
            return
        for label in active.settings:
            tab = self.tabs.get(label)
            if tab is None:
                self.add_setting(label)
                continue  # mounted later: the next sync (or its events) starts it
            panel = tab.panel
            if panel.is_mounted and panel.run_key != active.key and (panel.run_key is None or newer(active.key, panel.run_key)):
                self._start_panel(panel, active.key, followed=True)

    # -- the preflight of a run ----------------------------------------------------------------
    def show_preflight(self, what: str, labels: list[str]) -> None:
        """The preflight check for `what` runs before `labels` start: their tabs say so."""
        for label in labels:
            self.add_setting(label)
            tab = self.tabs[label]
            tab.panel.show_preflight(what)
            self._relabel(tab)

    def end_preflight(self) -> None:
        """The preflight ended: a run that started shows its settings; where none did,
        the tabs show what they showed before."""
        self.sync_with_state()
        for tab in self.tabs.values():
            if tab.panel.preflight:
                tab.panel.end_preflight()
                self._relabel(tab)

    # -- ghosts ------------------------------------------------------------------------------------
    @work(thread=True, group="ghosts", exit_on_error=False)
    def _load_ghosts(self) -> None:
        session = self.session
        labels = [s.label for s in (*session.settings(hidden=False), *session.settings(hidden=True))]
        ghosts = load_ghosts(session.task, session.profile, labels, session.seed,
                             default_results_dir(session.dir.parent.parent))
        try:
            self.app.call_from_thread(self._apply_ghosts, ghosts)
        except Exception:  # the app is closing
            pass

    def _apply_ghosts(self, ghosts: dict[str, SettingGhosts]) -> None:
        if ghosts == self.ghosts:
            return  # a re-read that found nothing new: no redraw
        self.ghosts = ghosts
        for label, tab in self.tabs.items():
            tab.panel.set_ghosts(ghosts.get(label, SettingGhosts()))
        self.screen.refresh_bindings()  # the footer offers F12 once there are ghosts

    @property
    def has_ghosts(self) -> bool:
        return any(g.lines for g in (self.ghosts or {}).values())

    def toggle_ghosts(self) -> bool:
        """Show or hide the ghosts on every setting's plot and table; True: shown now."""
        self.ghosts_shown = not self.ghosts_shown
        for tab in self.tabs.values():
            tab.panel.show_ghosts(self.ghosts_shown)
        return self.ghosts_shown

    # -- the whole test's ETA -------------------------------------------------------------------
    def test_eta(self) -> float | None:
        """Seconds until the run going on has ended, queued settings included; None when
        that cannot be estimated yet."""
        active = self.session.state.active_run()
        if active is None:
            return None
        now = time.monotonic()
        running = {}
        for label, tab in self.tabs.items():
            panel = tab.panel
            if panel.run_key == active.key and panel.status == RUNNING and panel.progress is not None:
                done, total, _, eta = panel.progress
                if eta is not None:
                    running[label] = RunningEstimate(done, total, max(0.0, eta - (now - panel.progress_at)), eta)
        return whole_test_eta(self.session.state, active, len(self.session.slot_envs), running)

    def _show_status(self, status: SettingStatus) -> None:
        self.set_status(status.label, status.status, status.exit_code, status.detail)

    # -- loading past runs from disk ---------------------------------------------------------
    @work(thread=True, group="history", exit_on_error=False)
    def _load_history_from_disk(self) -> None:
        state = self.session.state
        runs: list[RunRecord] = []
        if state.tests:
            runs.append(state.tests[-1])
        if state.submission is not None:
            runs.append(state.submission)
        loads = [self._read_setting(record, label, record is state.active_run())
                 for record in runs for label in record.settings]
        try:
            self.app.call_from_thread(self._apply_history, loads)
        except Exception:
            pass

    def _read_setting(self, record: RunRecord, label: str, active: bool) -> HistoryLoad:
        setting = record.settings[label]
        previous: list[dict[str, float]] = []
        if record.key.phase == "test" and record.key.n > 1:
            previous = read_curves(run_metrics_path(self.session, RunKey("test", record.key.n - 1), label))
        if active:  # re-attached: its metrics arrive as events
            return HistoryLoad(record.key, label, setting.status, setting.exit_code, [], previous)
        rows = read_curves(run_metrics_path(self.session, record.key, label))
        return HistoryLoad(record.key, label, setting.status, setting.exit_code, rows, previous)

    def _apply_history(self, loads: list[HistoryLoad]) -> None:
        for load in loads:
            tab = self.tabs.get(load.label)
            if tab is None or not tab.panel.is_mounted or tab.panel.run_key is not None:
                continue
            panel = tab.panel
            panel.start_run(load.key, run_log_path(self.session, load.key, load.label), load.previous,
                            f"test #{load.key.n - 1}" if load.previous else "")
            self.set_status(load.label, load.status, load.exit_code)
            panel.load_history(load.rows)
            if load.rows and load.key.phase == "test" and "epoch" in load.rows[-1]:
                done = load.rows[-1]["epoch"]
                panel.set_progress(done, done, "epoch", None)
