"""The replay screen (the session layout, read-only) and the side-by-side compare screen.

A replay is stepped through one step at a time: the timeline on the left,
the file as it was after the step in the read-only editor, and below it the
step itself: an edit's diff of its editable region, a test's per-setting
output with its TRAIN_METRICS curves, the final table against the task's
baselines at the submission, or the free text (an agent's reasoning).
The header shows the test budget as it was at that step.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Footer, Log, OptionList, Static
from textual.widgets.text_area import Selection

from sessions.leaderboard import format_value, published_rows
from sessions.metrics import train_rows
from sessions.replay.compare import Comparison, MetricRow
from sessions.replay.model import (
    EditStep,
    Replay,
    SettingResult,
    Step,
    SubmitStep,
    TestStep,
    TextStep,
    UndoStep,
)
from sessions.replay.render import step_lines
from sessions.state import FileState
from tasks.spec import TaskSpec
from tui.model import STATUS_GLYPH, baseline_levels, plot_keys, series, x_key
from tui.widgets.editor import GuardedEditor
from tui.widgets.header import SessionHeader
from tui.widgets.history import diff_text
from tui.widgets.chart import Chart, ChartPlot, PlotLine
from tui.widgets.runs import baseline_marks
from tui.widgets.timeline import Timeline, short_summary

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)
DEFAULT_SPEED = 1  # index into SPEEDS
SOURCE_WORDS = {"session": "session", "agent-json": "agent conversation", "agent-text": "agent transcript"}
LOG_LINES = 2000  # of one setting's output shown


# -- what the screen shows, computed from the replay (no widgets) ------------------------------
def budget_at(replay: Replay, index: int, total: int | None) -> tuple[str, str]:
    """(text, level) of the test-budget counter as it was after step `index`.

    level: ok | last | spent | closed | unknown (as the session header's classes).
    """
    steps = replay.steps[: max(0, index)]
    run = steps[-1].run if steps else (replay.steps[0].run if replay.steps else 1)
    left: int | None = None
    for step in reversed(steps):
        if step.run != run:
            break
        if isinstance(step, SubmitStep) and not step.refused:
            return (f"Submitted test #{step.n}" if step.n is not None else "Submitted"), "closed"
        if isinstance(step, TestStep) and not step.refused and step.budget_left is not None:
            left = step.budget_left
            break
    if left is None:
        if total is None:
            return "Tests: budget not known", "unknown"
        left = total
    if total is None or total < left:
        text = f"Tests: {left} left"
    else:
        text = f"Tests {'●' * left}{'○' * (total - left)} {left} of {total} left"
    if left <= 0:
        return (text if total is None else f"Tests {'○' * total} none left"), "spent"
    return text, "last" if left == 1 else "ok"


def file_at(replay: Replay, index: int) -> tuple[str | None, FileState | None]:
    """The file to show after step `index` (the one last edited or undone) and its state then.

    A refused edit changed nothing, so it does not pick the file.
    """
    files = replay.files_at(index)
    path = None
    for step in reversed(replay.steps[: max(0, index)]):
        if isinstance(step, EditStep) and not step.refused:
            path = step.file
            break
        if isinstance(step, UndoStep) and step.files:
            path = sorted(step.files)[0]
            break
    if path is None:
        path = next(iter(files), None)
        if path is None:
            path = next((s.file for s in replay.steps if isinstance(s, EditStep) and not s.refused), None)
    return path, files.get(path) if path is not None else None


def changed_lines(step: Step | None, path: str | None, state: FileState | None) -> tuple[int, int] | None:
    """The lines (0-based, end exclusive) of `path` that `step` changed, for the editor to select and show."""
    if state is None or path is None:
        return None
    if isinstance(step, EditStep) and step.file == path and step.applied and not step.refused:
        top = max(step.start - 1, 0)
        return top, min(top + step.new_lines, len(state.lines))
    if isinstance(step, UndoStep) and not step.refused and path in step.files:
        before, after = step.files[path]
        if before is None or after is None or before.lines == after.lines:
            return None
        a, b = before.lines, after.lines
        top = next(i for i in range(min(len(a), len(b)) + 1) if i == min(len(a), len(b)) or a[i] != b[i])
        tail = 0
        while tail < min(len(a), len(b)) - top and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
            tail += 1
        return top, len(b) - tail
    return None


def setting_curve(setting: SettingResult) -> list[dict[str, float]]:
    """A setting's TRAIN_METRICS rows: its metrics channel's where it had one, else its output's."""
    return setting.curve if setting.curve is not None else list(train_rows(setting.output.splitlines()))


def comparable(task: TaskSpec | None, replay: Replay) -> bool:
    """Whether published numbers are comparable: agents ran the paper protocol."""
    if task is None:
        return False
    if replay.profile and replay.profile in task.profiles:
        return task.profiles[replay.profile].comparable
    return replay.source != "session"


def final_table(task: TaskSpec | None, replay: Replay, final: dict[str, str], label: str = "this run") -> Table:
    """The final results beside the task's published rows (task.reference), metric by metric."""
    directions = task.metric_directions() if task is not None else {}
    published = published_rows(task) if task is not None else []
    names = list(directions) + [k for k in final if k not in directions]
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", expand=False)
    table.add_column("metric", no_wrap=True)
    table.add_column(label, justify="right", style="bold", no_wrap=True)
    for row in published:
        table.add_column(row.entry, justify="right", no_wrap=True)
    for name in names:
        arrow = {"max": " ↑", "min": " ↓"}.get(directions.get(name, ""), "")
        table.add_row(name + arrow, final.get(name, "-"), *(format_value(r.values.get(name)) for r in published))
    return table


def setting_line(s: SettingResult, selected: bool) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▸ " if selected else "  ", style="bold")
    glyph = STATUS_GLYPH.get(s.status, "·")
    style = {"done": "green", "failed": "bold red"}.get(s.status, "yellow")
    text.append(f"{glyph} {s.label}", style=style if selected else "")
    text.append(" (hidden)" if s.hidden else "", style="dim")
    text.append(f" {s.status}", style=style)
    if s.exit_code not in (None, 0):
        text.append(f" (exit {s.exit_code})", style="red")
    if s.metrics:
        text.append("  " + " ".join(f"{k}={v}" for k, v in s.metrics.items()))
        if s.seeds:
            first = next(iter(s.metrics))
            each = ", ".join(f"{seed}: {m.get(first, '-')}" for seed, m in s.seeds.items())
            text.append(f"  mean of seeds ({each})", style="dim")
    elif s.detail:
        text.append("  " + s.detail, style="dim")
    return text


@dataclass
class Shown:
    """What is on screen (tests read it)."""

    index: int = 0
    path: str | None = None
    state: FileState | None = None
    detail: str = "text"  # text | test


# -- the replay screen ---------------------------------------------------------------------------
class ReplayScreen(Screen):
    """One replay, step by step (read-only)."""

    BINDINGS = [
        Binding("space", "toggle_play", "Play/Pause", priority=True),
        Binding("left,comma", "step_back", "Back", key_display="←", priority=True),
        Binding("right,full_stop", "step_forward", "Next", key_display="→", priority=True),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", priority=True),
        Binding("minus", "slower", "Slower", key_display="-", priority=True),
        Binding("home", "first", "First", show=False, priority=True),
        Binding("end", "last", "Last", show=False, priority=True),
        Binding("s", "next_setting", "Setting"),
        Binding("m", "next_metric", "Metric"),
        Binding("v", "cycle_layout", "Layout"),
        Binding("i", "info", "Info"),
        Binding("escape", "back", "Back to compare", show=False),
    ]
    LAYOUTS = ("", "layout-editor", "layout-detail")

    def __init__(self, replay: Replay, task: TaskSpec | None = None, *, interval: float = 1.0,
                 name: str | None = None) -> None:
        super().__init__(name=name)
        self.replay = replay
        self.spec = task
        self.interval = interval  # seconds per step at 1×
        self.speed_index = DEFAULT_SPEED
        self.playing = False
        self.shown = Shown()
        self.setting_index = 0
        self.metric_index = 0
        self._timer: Timer | None = None
        self._layout = 0
        self._editor_count = 0
        self._editor: GuardedEditor | None = None
        self._ready = False
        self._total = replay.test_budget if replay.test_budget is not None else (
            task.test_budget if task is not None else None)

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    @property
    def index(self) -> int:
        return self.shown.index

    @property
    def step(self) -> Step | None:
        i = self.shown.index
        return self.replay.steps[i - 1] if 0 < i <= len(self.replay.steps) else None

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield SessionHeader(id="header")
        with Horizontal(id="replay-body"):
            yield Timeline(self.replay.steps, id="timeline")
            with Vertical(id="replay-work"):
                with Vertical(id="replay-editor-pane"):
                    path, state = file_at(self.replay, 1 if self.replay.steps else 0)
                    self.shown.path, self.shown.state = path, state
                    yield self._new_editor(path, state)
                with Vertical(id="replay-detail"):
                    with ContentSwitcher(initial="detail-text", id="detail-switcher"):
                        with VerticalScroll(id="detail-text"):
                            yield Static("", id="detail-body")
                        with Vertical(id="detail-test"):
                            yield Static("", id="test-settings")
                            with Horizontal(id="test-body"):
                                yield Log(max_lines=LOG_LINES, id="test-log", auto_scroll=False)
                                with Vertical(id="test-side"):
                                    yield ChartPlot(id="test-plot")
                                    yield Static("", id="test-legend")
        yield Footer(compact=True)

    def _new_editor(self, path: str | None, state: FileState | None) -> GuardedEditor:
        self._editor_count += 1
        text = state.text if state is not None else ""
        lines = state.lines if state is not None else ()
        ranges = state.ranges if state is not None else ()
        editor = GuardedEditor(path or "file.py", text, lines, ranges, cursor_blink=False,
                               id=f"replay-editor-{self._editor_count}")
        editor.read_only = True
        editor.add_class("replay-editor")
        self._editor = editor
        return editor

    @property
    def editor(self) -> GuardedEditor:
        """The editor showing the file now (a new one when the file shown changes)."""
        return self._editor

    def on_mount(self) -> None:
        header = self.query_one(SessionHeader)
        r = self.replay
        kind = SOURCE_WORDS.get(r.source, r.source)
        header.set_title(f"Replay: {r.task_id or 'unknown task'}")
        facts = [f"{kind}" + (f" by {r.who}" if r.who else ""), os.path.basename(r.path.rstrip("/")) or r.path]
        if r.title:
            facts.insert(0, r.title)
        if r.profile:
            facts.append(f"profile {r.profile}")
        if r.runs > 1:
            facts.append(f"{r.runs} runs")
        if r.skipped:
            facts.append(f"{len(r.skipped)} skipped (i)")
        header.set_facts(" · ".join(facts), comparable=not r.skipped)
        self.query_one("#test-plot", ChartPlot).can_focus = False
        self.query_one(Timeline).focus()
        self._ready = True
        self.go(1 if r.steps else 0, force=True)

    # -- moving ------------------------------------------------------------------------------
    def go(self, index: int, force: bool = False) -> None:
        """Show step `index` (from 1; clamped to the replay)."""
        if not self._ready:  # a key before the screen is mounted
            return
        n = len(self.replay.steps)
        index = max(min(index, n), 1 if n else 0)
        if index == self.shown.index and not force:
            return
        self.shown.index = index
        self.setting_index = 0
        self.query_one(Timeline).show_step(index)
        self._show_header()
        self._show_file()
        self._show_detail()

    def _show_header(self) -> None:
        header = self.query_one(SessionHeader)
        n = len(self.replay.steps)
        header.set_elapsed(f"step {self.shown.index}/{n}")
        header.set_budget(*budget_at(self.replay, self.shown.index, self._total))
        self._show_activity()

    def _show_activity(self) -> None:
        speed = f"{self.speed:g}×"
        if self.playing:
            self.query_one(SessionHeader).set_activity(f"▶ playing {speed}", True)
        else:
            self.query_one(SessionHeader).set_activity(f"⏸ paused {speed}", False)

    def _show_file(self) -> None:
        index = self.shown.index
        path, state = file_at(self.replay, index)
        pane = self.query_one("#replay-editor-pane", Vertical)
        editor = self.editor
        if path != self.shown.path:
            old = editor
            editor = self._new_editor(path, state)
            pane.mount(editor)
            old.remove()
        elif state is not self.shown.state:
            text = state.text if state is not None else ""
            editor.show_saved(text, state.ranges if state is not None else (), keep_cursor=True)
        self.shown.path, self.shown.state = path, state
        pane.border_title = path or "no file"
        if path is None:
            pane.border_subtitle = "no file edited in this replay"
        elif state is None:
            pane.border_subtitle = "the file's text is not known at this step"
        else:
            pane.border_subtitle = editor.legend() if state.ranges else ""
        span = changed_lines(self.step, path, state)
        if span is not None:
            self.call_after_refresh(self._select, editor, *span)

    def _select(self, editor: GuardedEditor, top: int, bottom: int) -> None:
        if not editor.is_mounted:
            return
        last = editor.document.line_count - 1
        top = min(top, last)
        if bottom > top:
            end = (bottom, 0) if bottom <= last else (last, len(editor.document[last]))
            editor.selection = Selection((top, 0), end)
        else:
            editor.move_cursor((top, 0))
        editor.scroll_to(y=max(0, top - 2), animate=False)

    def _show_detail(self) -> None:
        step = self.step
        pane = self.query_one("#replay-detail", Vertical)
        switcher = self.query_one("#detail-switcher", ContentSwitcher)
        body = self.query_one("#detail-body", Static)
        if step is None:
            pane.border_title = "nothing to replay"
            body.update(Text("This replay has no steps." + (" Press i for what was skipped." if self.replay.skipped else "")))
            switcher.current = "detail-text"
            self.shown.detail = "text"
            return
        head = f"{step.icon} {step.kind} · {short_summary(step)}"
        when = (step.time or "").replace("T", " ")[:19]
        if when:
            head += f" · {when}"
        pane.border_title = head
        if isinstance(step, TestStep) and step.settings and not step.refused:
            switcher.current = "detail-test"
            self.shown.detail = "test"
            self._show_test(step)
            return
        switcher.current = "detail-text"
        self.shown.detail = "text"
        body.update(self._detail_renderable(step))
        self.query_one("#detail-text", VerticalScroll).scroll_home(animate=False)

    def _detail_renderable(self, step: Step):
        parts: list = [Text(step.summary(), style="bold")]
        if isinstance(step, TextStep):
            style = {"thinking": "italic", "user": "cyan", "tool": "dim"}.get(step.role, "")
            parts.append(Text(step.text.strip("\n"), style=style))
        elif isinstance(step, EditStep):
            diff = step.diff()
            if step.refused:
                parts.append(Text(step.message or "The edit was refused: the file did not change.", style="red"))
            elif not diff:
                parts.append(Text("(no change: the lines already read so)", style="dim"))
            else:
                parts.append(diff_text(diff))
            if step.message and not step.refused:
                parts.append(Text(step.message, style="dim"))
        elif isinstance(step, UndoStep):
            if step.message:
                parts.append(Text(step.message, style="red" if step.refused else "dim"))
            for path, (before, after) in sorted(step.files.items()):
                if before is not None and after is not None:
                    lines = list(difflib.unified_diff(before.lines, after.lines, f"a/{path}", f"b/{path}", lineterm=""))
                    parts.append(diff_text(lines) if lines else Text(f"{path}: no change", style="dim"))
        elif isinstance(step, TestStep):
            parts.append(Text(step.text.strip("\n") or "(no output was kept)", style="dim"))
        elif isinstance(step, SubmitStep):
            parts.extend(self._submit_parts(step))
        if step.notes:
            parts.append(Text("\n".join(f"note: {n}" for n in step.notes), style="yellow"))
        return Group(*parts)

    def _submit_parts(self, step: SubmitStep) -> list:
        parts: list = []
        if step.refused:
            parts.append(Text(step.text.strip("\n") or "The submission was refused.", style="red"))
            return parts
        for s in step.settings:
            if s.hidden:
                parts.append(setting_line(s, False))
        if step.final:
            parts.append(Text("\nFinal results" + (f" (submitted test #{step.n})" if step.n is not None else ""),
                              style="bold"))
            if self.spec is not None and not comparable(self.spec, self.replay) and published_rows(self.spec):
                parts.append(Text(f"(profile {self.replay.profile}: published numbers are from the paper "
                                  "protocol and are not comparable)", style="yellow"))
            parts.append(final_table(self.spec, self.replay, step.final))
            if self.spec is None:
                parts.append(Text("(the task is not in the local catalog: no baselines to compare with)", style="dim"))
        else:
            parts.append(Text(step.text.strip("\n") or "No final results were kept.", style="dim"))
        return parts

    # -- a test's settings -----------------------------------------------------------------------
    def _show_test(self, step: TestStep) -> None:
        settings = step.settings
        self.setting_index %= len(settings)
        chosen = settings[self.setting_index]
        lines = [setting_line(s, i == self.setting_index) for i, s in enumerate(settings)]
        for k, v in step.extra.items():
            lines.append(Text(f"  {k}={v}", no_wrap=True))
        self.query_one("#test-settings", Static).update(Text("\n").join(lines))
        log = self.query_one("#test-log", Log)
        log.clear()
        output = chosen.output or chosen.detail or "(no output was kept for this setting)"
        log.write_lines(output.rstrip("\n").split("\n")[-LOG_LINES:])
        log.scroll_end(animate=False)
        self._draw_plot(chosen)

    def _draw_plot(self, setting: SettingResult) -> None:
        plot = self.query_one("#test-plot", ChartPlot)
        legend = self.query_one("#test-legend", Static)
        rows = setting_curve(setting)
        x = x_key(rows)
        if self.spec is not None:
            keys = plot_keys(self.spec, setting.label, rows, x)
        else:
            keys = [k for k in (rows[-1] if rows else {}) if k != x]
        if not rows or not keys:
            legend.update("")
            plot.show(Chart(f"{setting.label}: no TRAIN_METRICS in the output"))
            return
        key = keys[self.metric_index % len(keys)]
        xs, ys = series(rows, key, x, max_points=2 * max(plot.size.width, 40))
        notes = []
        lines: tuple[PlotLine, ...] = ()
        levels: tuple[tuple[float, str], ...] = ()
        if xs:
            lines = (PlotLine(tuple(xs), tuple(ys), "cyan"),)
            if self.spec is not None and comparable(self.spec, self.replay):
                found = baseline_levels(self.spec, setting.label, key)
                if found:
                    levels, note = baseline_marks(found)
                    notes.append(note)
        if len(keys) > 1:
            notes.append("m: next metric")
        legend.update(Text(" · ".join(notes), no_wrap=True, overflow="ellipsis"))
        plot.show(Chart(f"{setting.label}: {key}", x or "", lines, levels))

    # -- actions ---------------------------------------------------------------------------------
    def action_step_forward(self) -> None:
        self.go(self.shown.index + 1)

    def action_step_back(self) -> None:
        self.go(self.shown.index - 1)

    def action_first(self) -> None:
        self.go(1)

    def action_last(self) -> None:
        self.go(len(self.replay.steps))

    def action_toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if not self.replay.steps:
            return
        if self.shown.index >= len(self.replay.steps):
            self.go(1)  # from the start again
        self.playing = True
        self._restart_timer()
        self._show_activity()

    def pause(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._show_activity()

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(self.interval / self.speed, self._tick)

    def _tick(self) -> None:
        if not self.playing:
            return
        if self.shown.index >= len(self.replay.steps):
            self.pause()
            return
        self.go(self.shown.index + 1)
        if self.shown.index >= len(self.replay.steps):
            self.pause()

    def action_faster(self) -> None:
        self._set_speed(self.speed_index + 1)

    def action_slower(self) -> None:
        self._set_speed(self.speed_index - 1)

    def _set_speed(self, i: int) -> None:
        i = max(0, min(i, len(SPEEDS) - 1))
        if i == self.speed_index:
            return
        self.speed_index = i
        if self.playing:
            self._restart_timer()
        self._show_activity()

    def action_next_setting(self) -> None:
        step = self.step
        if isinstance(step, TestStep) and step.settings and not step.refused:
            self.setting_index = (self.setting_index + 1) % len(step.settings)
            self._show_test(step)

    def action_next_metric(self) -> None:
        step = self.step
        self.metric_index += 1
        if isinstance(step, TestStep) and step.settings and not step.refused:
            self._show_test(step)

    def action_cycle_layout(self) -> None:
        work = self.query_one("#replay-work", Vertical)
        work.remove_class(*[c for c in self.LAYOUTS if c])
        self._layout = (self._layout + 1) % len(self.LAYOUTS)
        if self.LAYOUTS[self._layout]:
            work.add_class(self.LAYOUTS[self._layout])

    def action_info(self) -> None:
        self.app.push_screen(InfoScreen(self.replay))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.pause()
            self.app.pop_screen()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.has_focus and event.option.id:
            self.go(int(event.option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.go(int(event.option.id))

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()


# -- notes and what was skipped ----------------------------------------------------------------
def info_lines(replay: Replay) -> list[str]:
    out = [f"{SOURCE_WORDS.get(replay.source, replay.source)}: {replay.path}"]
    counts = replay.counts()
    out.append(f"{len(replay.steps)} steps: " + ", ".join(
        f"{counts.get(k, 0)} {k}" for k in ("edit", "undo", "test", "submit", "text"))
        + (f", {len(replay.refused())} refused (not counted)" if replay.refused() else ""))
    if replay.notes:
        out += ["", "How it was read:"] + [f"  {n}" for n in replay.notes]
    cut = replay.cut()
    if cut:
        out += ["", f"Cut short in the source ({len(cut)}):"]
        out += [f"  - step {step.index} ({short_summary(step)[:60]}): {note}" for step, note in cut]
    if replay.skipped:
        out += ["", f"Skipped or incomplete ({len(replay.skipped)}):"]
        out += [f"  - {reason}" for reason in replay.skipped]
    elif not cut:
        out += ["", "Nothing was skipped or cut."]
    else:
        out += ["", "Nothing else was skipped."]
    return out


class InfoScreen(ModalScreen):
    """What the replay was built from, and what was skipped and why."""

    DEFAULT_CSS = """
    InfoScreen { align: center middle; }
    InfoScreen > VerticalScroll { width: 90%; max-width: 120; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,i,q", "dismiss", "Close")]

    def __init__(self, replay: Replay) -> None:
        super().__init__()
        self.replay = replay

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "About this replay (Esc closes)"
            yield Static(Text("\n".join(info_lines(self.replay))), id="info-text")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss()


# -- comparing two replays ---------------------------------------------------------------------
def side_name(replay: Replay, other: Replay) -> str:
    name = replay.who or os.path.basename(replay.path.rstrip("/")) or replay.path
    if name == (other.who or os.path.basename(other.path.rstrip("/")) or other.path):
        name += f" ({os.path.basename(replay.path.rstrip('/'))})"
    return name


def compare_final_table(cmp: Comparison, task: TaskSpec | None, name_a: str, name_b: str) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", expand=False)
    published = published_rows(task) if task is not None else []
    table.add_column("metric", no_wrap=True)
    table.add_column("A", justify="right", no_wrap=True)
    table.add_column("B", justify="right", no_wrap=True)
    table.add_column("better", justify="center")
    for row in published:
        table.add_column(row.entry, justify="right", no_wrap=True)

    def cell(r: MetricRow, side: str) -> Text:
        value = (r.a if side == "a" else r.b) or "-"
        return Text(value, style="bold green" if r.better == side else "")

    for r in cmp.final:
        better = {"a": "A", "b": "B", "=": "="}.get(r.better or "", "")
        table.add_row(r.metric, cell(r, "a"), cell(r, "b"), better,
                      *(format_value(p.values.get(r.metric)) for p in published))
    return table


class CompareScreen(Screen):
    """Two replays side by side: tests beside tests, final tables joined."""

    BINDINGS = [
        Binding("a", "open('a')", "Open A"),
        Binding("b", "open('b')", "Open B"),
        Binding("t", "toggle_text", "Free text"),
    ]

    def __init__(self, cmp: Comparison, task: TaskSpec | None = None, *, interval: float = 1.0,
                 recompare=None) -> None:
        super().__init__()
        self.cmp = cmp
        self.spec = task
        self.interval = interval
        self.recompare = recompare  # include_text -> Comparison, for the free-text toggle
        self.include_text = False

    def compose(self) -> ComposeResult:
        a, b = self.cmp.a, self.cmp.b
        self.name_a, self.name_b = side_name(a, b), side_name(b, a)
        yield Static("", id="compare-title")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="compare-detail"):
            with VerticalScroll(id="compare-detail-a"):
                yield Static("", id="compare-step-a")
            with VerticalScroll(id="compare-detail-b"):
                yield Static("", id="compare-step-b")
        yield Static("", id="compare-final")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#compare-table", DataTable).focus()

    def _fill(self) -> None:
        cmp = self.cmp
        task = cmp.a.task_id or cmp.b.task_id or "unknown task"
        if cmp.a.task_id and cmp.b.task_id and cmp.a.task_id != cmp.b.task_id:
            task = f"{cmp.a.task_id} vs {cmp.b.task_id}"
        self.query_one("#compare-title", Static).update(
            Text(f"Compare: {task} · A {self.name_a} ({len(cmp.a.steps)} steps) · "
                 f"B {self.name_b} ({len(cmp.b.steps)} steps)", no_wrap=True, overflow="ellipsis", style="bold"))
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        table.add_column("", key="kind", width=2)
        table.add_column(f"A: {self.name_a}", key="a")
        table.add_column(f"B: {self.name_b}", key="b")
        for i, row in enumerate(cmp.rows):
            table.add_row(row.a.icon if row.a else row.b.icon, self._cell(row.a), self._cell(row.b), key=str(i))
        final = self.query_one("#compare-final", Static)
        if cmp.final:
            note = cmp.protocol_note()
            final.update(Group(Text("Final results", style="bold"),
                               *([Text(note, style="yellow")] if note else []),
                               compare_final_table(cmp, self.spec, self.name_a, self.name_b)))
        else:
            final.update(Text("No final results on either side.", style="dim"))
        if cmp.rows:
            self._show_row(0)

    def _cell(self, step: Step | None) -> Text:
        if step is None:
            return Text("")
        return Text(f"{step.index:>3} {short_summary(step)}", no_wrap=True, overflow="ellipsis")

    def _show_row(self, i: int) -> None:
        row = self.cmp.rows[i]
        for side, step in (("a", row.a), ("b", row.b)):
            widget = self.query_one(f"#compare-step-{side}", Static)
            if step is None:
                widget.update(Text("(nothing here on this side)", style="dim"))
            else:
                widget.update(Text("\n".join(step_lines(step, 3))))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self._show_row(int(event.row_key.value))

    def action_open(self, side: str) -> None:
        replay = self.cmp.a if side == "a" else self.cmp.b
        screen = ReplayScreen(replay, getattr(self.app, "task_for", lambda r: self.spec)(replay), interval=self.interval)
        self.app.push_screen(screen)

    def action_toggle_text(self) -> None:
        if self.recompare is None:
            return
        self.include_text = not self.include_text
        self.cmp = self.recompare(self.include_text)
        self._fill()
