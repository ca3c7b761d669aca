"""From engine events (worker threads) to the UI thread, merged and bounded.

The engine calls `EventPump.__call__` on its worker threads, as often as its
drivers print. Nothing is posted per event: lines go into a bounded buffer per
setting (older lines are dropped, counted, and stay in the log file on disk),
superseding events (progress) keep only the newest, and the UI drains it all
on a timer (10-20 Hz). `wake` is called (thread-safely) for the rare events
that should be shown at once: a status change, a run's end, a session change.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from sessions.events import LogLines, Progress, RunFinished, RunKey, SessionChanged, SettingStatus

Key = tuple[RunKey, str]
MAX_STASHED_METRICS = 5000  # metrics rows kept per setting while batches wait (the plot thins them anyway)


@dataclass
class LineBuffer:
    lines: deque
    dropped: int = 0


@dataclass
class Batch:
    """What happened since the last drain, in arrival order where it matters."""

    lines: dict[Key, LineBuffer] = field(default_factory=dict)
    metrics: dict[Key, list[dict[str, float]]] = field(default_factory=dict)
    progress: dict[Key, Progress] = field(default_factory=dict)
    statuses: list[SettingStatus] = field(default_factory=list)
    finished: list[RunFinished] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.lines or self.metrics or self.progress or self.urgent)

    @property
    def urgent(self) -> bool:
        """Holds what is shown at once (a status, a run's end, a session change), not only stream."""
        return bool(self.statuses or self.finished or self.changed)

    def merge(self, new: Batch) -> Batch:
        """This batch with `new` appended (this one is extended and returned)."""
        for key, buf in new.lines.items():
            if key in self.lines:
                self.lines[key].lines.extend(buf.lines)
                self.lines[key].dropped += buf.dropped
            else:
                self.lines[key] = buf
        for key, rows in new.metrics.items():
            kept = self.metrics.setdefault(key, [])
            kept.extend(rows)
            del kept[:-MAX_STASHED_METRICS]
        self.progress.update(new.progress)
        self.statuses.extend(new.statuses)
        self.finished.extend(new.finished)
        self.changed.extend(new.changed)
        return self


class EventPump:
    def __init__(self, max_lines: int = 500, max_metrics: int = 5000, wake: Callable[[], None] | None = None):
        self.max_lines, self.max_metrics = max_lines, max_metrics
        self.wake = wake
        self._lock = threading.Lock()
        self._batch = Batch()
        self.total_lines = 0  # since the app started (for the benchmark and tests)
        self._stopped = False

    def stop(self) -> None:
        """Ignore every later event (the view that drained this pump is gone)."""
        self._stopped = True

    def __call__(self, event: Any) -> None:
        if self._stopped:
            return
        urgent = False
        with self._lock:
            batch = self._batch
            if isinstance(event, LogLines):
                key = (event.run, event.label)
                buf = batch.lines.get(key)
                if buf is None:
                    buf = batch.lines[key] = LineBuffer(deque(maxlen=self.max_lines))
                overflow = len(buf.lines) + len(event.lines) - self.max_lines
                buf.dropped += max(0, overflow) + event.skipped
                buf.lines.extend(event.lines)
                self.total_lines += len(event.lines) + event.skipped
                if event.metrics:
                    rows = batch.metrics.setdefault(key, [])
                    rows.extend(event.metrics)
                    if len(rows) > self.max_metrics:
                        del rows[: len(rows) - self.max_metrics]
            elif isinstance(event, Progress):
                batch.progress[(event.run, event.label)] = event
            elif isinstance(event, SettingStatus):
                last = batch.statuses[-1] if batch.statuses else None
                if last != event:  # the engine repeats "queued" while a job waits
                    batch.statuses.append(event)
                    urgent = True
            elif isinstance(event, RunFinished):
                batch.finished.append(event)
                urgent = True
            elif isinstance(event, SessionChanged):
                batch.changed.append(event.reason)
                urgent = True
        if urgent and self.wake is not None:
            self.wake()

    def drain(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch
