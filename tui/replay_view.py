"""What the replay screen shows at a step, computed from the replay (no widgets): the budget,
the file and the lines a step changed, a setting's curve and line, the final table."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from sessions.leaderboard import format_value, published_rows
from sessions.metrics import train_rows
from sessions.replay.model import EditStep, Replay, SettingResult, Step, SubmitStep, TestStep, UndoStep
from sessions.state import FileState
from tasks.spec import TaskSpec
from tui.model import STATUS_GLYPH


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
