"""The whole run's ETA for the header: the running settings' own estimates, and the queued
ones placed in the slots as these free up. No Textual here.

A queued setting is expected to take as long as it did in this session's latest run where it
finished; never run yet, as long as the running settings take on average (the same profile's
plan, a guess said as "about"). Nothing is estimated until every running setting has one.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime

from sessions.events import DONE, ENDED, QUEUED, RUNNING
from sessions.state import RunRecord, SessionState


@dataclass(frozen=True)
class RunningEstimate:
    done: float  # units (epochs, steps) done when `eta_then` was computed
    total: float
    remaining: float  # seconds left now
    eta_then: float  # seconds left when the progress arrived

    @property
    def whole(self) -> float | None:
        """The setting's estimated whole duration (start to end); None once every unit is
        done (its rate is no longer in the ETA)."""
        left = self.total - self.done
        return self.eta_then * self.total / left if left > 0 else None


def past_duration(state: SessionState, run: RunRecord, label: str) -> float | None:
    """Seconds `label` took in the latest earlier run of this session where it finished."""
    for record in reversed(state.runs):
        if record is run:
            continue
        setting = record.settings.get(label)
        if setting is not None and setting.status == DONE and setting.started_at and setting.ended_at:
            return (datetime.fromisoformat(setting.ended_at) - datetime.fromisoformat(setting.started_at)).total_seconds()
    return None


def whole_test_eta(state: SessionState, run: RunRecord, slots: int,
                   running: dict[str, RunningEstimate]) -> float | None:
    """Seconds until every setting of `run` has ended; None when it cannot be backed: a
    running setting without an estimate yet, or a queued one a cluster holds (its wait
    is the cluster's)."""
    going = [label for label, s in run.settings.items() if s.status == RUNNING]
    waiting = [label for label, s in run.settings.items() if s.status == QUEUED]
    if any(label not in running for label in going) or any(run.settings[label].detail for label in waiting):
        return None
    if not going and not waiting:
        return 0.0 if all(s.status in ENDED for s in run.settings.values()) else None
    guesses = [whole for label in going if (whole := running[label].whole) is not None]
    free = [running[label].remaining for label in going]
    free += [0.0] * max(0, max(1, slots) - len(free))
    heapq.heapify(free)
    end = max(free) if going else 0.0
    for label in waiting:
        took = past_duration(state, run, label)
        if took is None:
            if not guesses:
                return None
            took = sum(guesses) / len(guesses)
        start = heapq.heappop(free)
        heapq.heappush(free, start + took)
        end = max(end, start + took)
    return end
