"""From engine events (worker threads) to the UI thread, merged and bounded.

The engine calls `EventPump.__call__` on its worker threads, as often as its
drivers print. Nothing is posted per event: log lines are not carried at all
(the log views read the log files), metrics rows are collected per setting,
superseding events (progress) keep only the newest, and the UI drains it all
on a timer (10-20 Hz). `wake` is called (thread-safely) for the rare events
that should be shown at once: a status change, a run's end, a session change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from sessions.events import LogLines, Progress, RunFinished, RunKey, SessionChanged, SettingStatus

Key = tuple[RunKey, str]
MAX_STASHED_METRICS = 5000  # metrics rows kept per setting while batches wait (the plot thins them anyway)


@dataclass
class Batch:
    """What happened since the last drain, in arrival order where it matters."""

    metrics: dict[Key, list[dict[str, float]]] = field(default_factory=dict)
    progress: dict[Key, Progress] = field(default_factory=dict)
    statuses: list[SettingStatus] = field(default_factory=list)
    finished: list[RunFinished] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.metrics or self.progress or self.urgent)

    @property
    def urgent(self) -> bool:
        """Holds what is shown at once (a status, a run's end, a session change), not only stream."""
        return bool(self.statuses or self.finished or self.changed)

    def merge(self, new: Batch) -> Batch:
        """This batch with `new` appended (this one is extended and returned)."""
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
    def __init__(self, max_metrics: int = MAX_STASHED_METRICS, wake: Callable[[], None] | None = None):
        self.max_metrics = max_metrics
        self.wake = wake
        self._lock = threading.Lock()
        self._batch = Batch()
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
                if event.metrics:
                    rows = batch.metrics.setdefault((event.run, event.label), [])
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
