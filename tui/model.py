"""What the screens show, computed from the engine's public API (no Textual here)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from sessions.events import CANCELLED, DONE, FAILED, LOST, QUEUED, RUNNING, RunKey
from sessions.leaderboard import Row, format_value, published_rows
from sessions.metrics import file_rows
from sessions.state import RunRecord, SessionState
from tasks.spec import LineRange, TaskSpec

if TYPE_CHECKING:
    from sessions.engine import Session

# Not an engine status: the preflight check before a run starts (nothing spent yet).
PREFLIGHT = "preflight"
STATUS_GLYPH = {PREFLIGHT: "◌", QUEUED: "○", RUNNING: "◐", DONE: "●", FAILED: "✗", CANCELLED: "⊘", LOST: "?"}
X_KEYS = ("epoch", "step", "iter", "iteration", "run")


# -- the header ------------------------------------------------------------------------
def budget_text(state: SessionState, submit_key: str = "F9") -> tuple[str, str]:
    """(text, level) of the test-budget counter; level: ok | last | spent | closed."""
    left, total = state.budget_left, state.budget_total
    if state.submission is not None:
        n = state.submission.key.n
        if state.closed:
            return f"Submitted test #{n} · session closed", "closed"
        return f"Submitting test #{n}: hidden settings running", "closed"
    dots = "●" * left + "○" * (total - left)
    if left <= 0:
        return f"Tests {dots} none left · {submit_key}: submit one", "spent"
    return f"Tests {dots} {left} of {total} left", "last" if left == 1 else "ok"


def profile_note(task: TaskSpec, profile: str) -> str:
    info = task.profiles.get(profile)
    if info is not None and info.comparable:
        return f"{profile} profile: the published protocol (comparable)"
    return f"{profile} profile: scores not comparable with published ones"


def elapsed_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def eta_text(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return ""
    return "ETA " + (elapsed_text(seconds) if seconds >= 3600 else f"{int(seconds) // 60}:{int(seconds) % 60:02d}")


def number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def status_text(status: str, exit_code: int | None = None, detail: str = "") -> str:
    glyph = STATUS_GLYPH.get(status, "·")
    if status == FAILED:
        return f"{glyph} failed (exit {exit_code})"
    if status == QUEUED and detail:
        return f"{glyph} queued: {detail}"
    if status == LOST and detail:
        return f"{glyph} lost: {detail}"
    return f"{glyph} {status}"


# -- runs, logs and curves ----------------------------------------------------------------
def run_log_path(session: Session, key: RunKey, label: str) -> Path:
    return session.folder.log_path(key, label)


def run_metrics_path(session: Session, key: RunKey, label: str) -> Path:
    """Where a run's metrics rows are read: its metrics channel, or its log for a run from before it."""
    try:
        return session.folder.metrics_source(key, session.state.run(key).settings[label])
    except (AssertionError, IndexError, KeyError):  # no such run or setting: nothing to read
        return session.folder.metrics_path(key, label)


def read_curves(path: Path, max_points: int = 4000) -> list[dict[str, float]]:
    """The TRAIN_METRICS rows of a whole metrics file or log (thinned to max_points)."""
    curve = Curve(max_points)
    curve.add(file_rows(path))
    return curve.points


class Curve:
    """A bounded series of metrics rows: past max_points, every other row is kept."""

    def __init__(self, max_points: int = 4000):
        self.max_points = max_points
        self.points: list[dict[str, float]] = []
        self._stride, self._skip = 1, 0
        self.count = 0

    def add(self, rows: Iterable[dict[str, float]]) -> None:
        for row in rows:
            self.count += 1
            self._skip += 1
            if self._skip < self._stride:
                continue
            self._skip = 0
            self.points.append(row)
            if len(self.points) > self.max_points:
                self.points = self.points[::2]
                self._stride *= 2


def x_key(rows: Sequence[dict[str, float]], unit: str | None = None) -> str | None:
    if not rows:
        return unit
    sample = rows[-1]
    if unit and unit in sample:
        return unit
    return next((k for k in X_KEYS if k in sample), None)


def plot_keys(task: TaskSpec, label: str, rows: Sequence[dict[str, float]], x: str | None) -> list[str]:
    """Metrics worth plotting for a setting: its result metric first, then the rest."""
    keys: list[str] = []
    for rule in task.metrics:
        if rule.applies_to(label) and rule.source != "final" and rule.key not in keys:
            keys.append(rule.key)
    seen = [k for k in (rows[-1] if rows else {}) if k != x]
    present = [k for k in keys if not rows or k in seen]
    return present + [k for k in seen if k not in present]


def series(
    rows: Sequence[dict[str, float]], key: str, x: str | None, max_points: int = 0
) -> tuple[list[float], list[float]]:
    """(x, y) of one metric; with max_points, thinned evenly (a plot is only so many cells wide)."""
    xs, ys = [], []
    step = max(1, -(-len(rows) // max_points)) if max_points else 1
    for i, row in enumerate(rows, start=1):
        if step > 1 and (i - 1) % step and i != len(rows):
            continue
        y = row.get(key)
        if y is None or math.isnan(y) or math.isinf(y):
            continue
        xv = row.get(x, float(i)) if x else float(i)
        xs.append(xv)
        ys.append(y)
    return xs, ys


def baseline_levels(task: TaskSpec, label: str, key: str) -> list[tuple[str, float]]:
    """Published (mean) results of this setting for the plotted metric key."""
    setting = next((s for s in task.settings if s.label == label), None)
    if setting is None:
        return []
    names = [r.metric_name(setting) for r in task.metrics if r.applies_to(label) and r.key == key]
    out = []
    for row in published_rows(task):
        for name in names:
            value = row.values.get(name)
            if value is not None:
                out.append((row.entry, value))
    return out


# -- results and ranks -------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricColumn:
    name: str
    direction: str  # max | min
    label: str
    hidden: bool

    @property
    def heading(self) -> str:
        arrow = "↑" if self.direction == "max" else "↓"
        return f"{self.name} {arrow}" + (" (hidden)" if self.hidden else "")


def metric_columns(task: TaskSpec, hidden: bool | None = None) -> list[MetricColumn]:
    out, seen = [], set()
    for setting in task.settings:
        if hidden is not None and setting.hidden != hidden:
            continue
        for rule in task.metrics:
            if rule.applies_to(setting.label):
                name = rule.metric_name(setting)
                if name not in seen:
                    seen.add(name)
                    out.append(MetricColumn(name, rule.direction, setting.label, setting.hidden))
    return out


def to_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def best_values(rows: Sequence[Row], directions: dict[str, str]) -> dict[str, float]:
    out = {}
    for name, direction in directions.items():
        values = [r.values[name] for r in rows if r.values.get(name) is not None]
        if values:
            out[name] = max(values) if direction == "max" else min(values)
    return out


def value_text(value: float | None) -> str:
    return format_value(value)


# -- tests and their code ----------------------------------------------------------------------
def run_summary(record: RunRecord) -> str:
    parts = []
    for s in record.settings.values():
        parts.append(f"{s.label} {status_text(s.status, s.exit_code)}")
    return ", ".join(parts)


def run_state_word(record: RunRecord) -> str:
    if not record.finished:
        return "running"
    statuses = {s.status for s in record.settings.values()}
    if statuses == {DONE}:
        return "done"
    if CANCELLED in statuses:
        return "cancelled"
    if FAILED in statuses:
        return "failed" if DONE not in statuses else "partly failed"
    return ", ".join(sorted(statuses))


def editable_ranges_text(ranges: Sequence[LineRange]) -> str:
    return ", ".join(str(r) for r in ranges) or "none"


def safe_id(text: str) -> str:
    """`text` as a widget id (letters, digits, - and _)."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def activity_text(
    state: SessionState, spin: str, preflight: str | None, cancelling: bool,
    progress: Callable[[str], tuple[float, float] | None], eta: float | None = None,
) -> tuple[str, bool]:
    """(text, busy) of the header's activity: the preflight, a cancel, each setting of the
    run going (its progress, `progress(label)`, while it runs) after the whole run's `eta`
    (seconds, queued settings included; None: not known yet), or the session's state."""
    if preflight:
        return f"{spin} {preflight}: preflight check…", True
    if cancelling:
        return f"{spin} cancelling…", True
    active = state.active_run()
    if active is not None:
        parts = []
        # the running settings first: a narrow header cuts the end of this line
        for s in sorted(active.settings.values(), key=lambda s: s.status != RUNNING):
            shown = progress(s.label) if s.status == RUNNING else None
            word = f"{number_text(shown[0])}/{number_text(shown[1])}" if shown else s.status
            parts.append(f"{s.label} {word}")
        left = f" (about {eta_text(eta).removeprefix('ETA ')} left)" if eta is not None else ""
        return f"▶ {active.key}{left}: " + ", ".join(parts), True
    if state.closed:
        return "session closed · F9 shows the final table", False
    return "ready", False


def run_end_notice(state: SessionState, key: RunKey) -> tuple[str, str, str] | None:
    """(title, text, severity) of the notice when a run ends: its results, what did not
    finish, and the tests left; None when the state does not know the run."""
    try:
        record = state.run(key)
    except (AssertionError, IndexError):
        return None
    summary = ", ".join(f"{k}={v}" for k, v in record.results().items()) or "no results"
    if key.phase != "test":
        return "Submission finished", summary, "information"
    failed = [s.label for s in record.settings.values() if s.status != DONE]
    left = state.budget_left
    tail = f"{left} test{'s' if left != 1 else ''} left" if left else "no tests left: F9 to submit one"
    extra = f" Not done: {', '.join(failed)}." if failed else ""
    return f"Test #{key.n} finished", f"{summary}.{extra} {tail}.", "warning" if failed else "information"


def test_confirmation(session: Session, unsaved: Sequence[str]) -> str:
    """What starting the next test spends and runs (the body of its confirmation)."""
    left = session.state.budget_left
    labels = ", ".join(s.label for s in session.settings(hidden=False))
    lines = [
        f"This spends 1 of your {left} remaining test{'s' if left != 1 else ''} "
        f"({left - 1} will be left), also if the run fails or is cancelled.",
        f"It runs {labels} on your code (profile {session.profile}, seed {session.seed}).",
        "A preflight check runs first; if it refuses, nothing is spent.",
    ]
    if unsaved:
        lines.append(f"Unsaved changes in {', '.join(unsaved)} are saved first.")
    if left == 1:
        lines.append("This is your last test: afterwards you submit one of your tests.")
    return "\n".join(lines)


def submit_confirmation(session: Session, n: int) -> str:
    """What submitting test `n` does (the body of its confirmation)."""
    state = session.state
    record = state.tests[n - 1]
    hidden = ", ".join(s.label for s in session.settings(hidden=True)) or "no hidden settings"
    body = [f"Test #{n} becomes your final answer; its code now runs on {hidden}."]
    if not record.results():
        body.append(f"Warning: test #{n} has no results ({record.feedback and 'it did not finish' or 'no metrics'}).")
    unspent = state.budget_left
    if unspent:
        body.append(f"You still have {unspent} test{'s' if unspent != 1 else ''} left; they are given up.")
    body.append("The session then closes: no more edits or tests.")
    return "\n".join(body)


def run_word(key: RunKey) -> str:
    """"Test #n" or "The submission of test #n", to start a sentence."""
    return f"Test #{key.n}" if key.phase == "test" else f"The submission of test #{key.n}"
