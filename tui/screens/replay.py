"""The replay screen (the session layout, read-only); the side-by-side compare screen is compare.py.

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

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Log, OptionList, Static
from textual.widgets.text_area import Selection

from sessions.leaderboard import published_rows
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
from sessions.state import FileState
from tasks.spec import TaskSpec
from tui.model import baseline_levels, plot_keys, series, x_key
from tui.replay_view import (
    Shown,
    budget_at,
    changed_lines,
    comparable,
    file_at,
    final_table,
    setting_curve,
    setting_line,
)
from tui.widgets.chart import Chart, ChartPlot, PlotLine
from tui.widgets.editor import GuardedEditor
from tui.widgets.header import SessionHeader
from tui.widgets.history import diff_text
from tui.widgets.runs import baseline_marks
from tui.widgets.timeline import Timeline, short_summary

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)
DEFAULT_SPEED = 1  # index into SPEEDS
SOURCE_WORDS = {"session": "session", "agent-json": "agent conversation", "agent-text": "agent transcript"}
LOG_LINES = 2000  # of one setting's output shown


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
