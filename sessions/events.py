"""Events the engine emits while it works; a UI or a CLI subscribes to them.

They are delivered on the engine's worker threads: a subscriber that owns a
UI must hand them over to its own thread (Textual: post_message).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# A setting's status over a test: queued -> running -> done | failed | cancelled | lost
QUEUED, RUNNING, DONE, FAILED, CANCELLED, LOST = "queued", "running", "done", "failed", "cancelled", "lost"
ENDED = (DONE, FAILED, CANCELLED, LOST)


@dataclass(frozen=True)
class RunKey:
    """Which run a setting belongs to: test n, or the submission's hidden run."""

    phase: str  # "test" | "submit"
    n: int

    def __str__(self) -> str:
        return f"test #{self.n}" if self.phase == "test" else f"submission (test #{self.n})"


@dataclass(frozen=True)
class SettingStatus:
    run: RunKey
    label: str
    status: str
    exit_code: int | None = None
    detail: str = ""  # e.g. Slurm's pending reason, or why a job was lost


@dataclass(frozen=True)
class LogLines:
    """A batch of log lines, with the metrics lines among them parsed.

    `skipped` lines came before `lines` and were not delivered (the subscriber's
    `lines_per_event`, given to `Session.subscribe`); they are in the log file,
    and their metrics are in `metrics`.
    """

    run: RunKey
    label: str
    lines: list[str]
    metrics: list[dict[str, float]] = field(default_factory=list)
    skipped: int = 0

    def last(self, limit: int | None) -> LogLines:
        """This batch cut to its last `limit` lines, the rest counted as skipped (None: all)."""
        if limit is None or len(self.lines) <= limit:
            return self
        cut = len(self.lines) - limit
        return replace(self, lines=self.lines[cut:], skipped=self.skipped + cut)


@dataclass(frozen=True)
class Progress:
    run: RunKey
    label: str
    done: float
    total: float
    unit: str
    eta_seconds: float | None


@dataclass(frozen=True)
class RunFinished:
    """Every setting of a test (or of the submission) has ended."""

    run: RunKey
    feedback: str


@dataclass(frozen=True)
class SessionChanged:
    """Budget, edits, ranges or the session's phase changed: re-read the state."""

    reason: str
