"""Working time: when the person works on a session, with pauses, and an optional limit.

The clock runs while the app is open and not paused. The app journals its
events, each with `at`, the session clock's reading (seconds since the epoch):

    clock_started   the app opened (not when the session was left paused)
    clock_tick      every TICK_SECONDS while it runs
    clock_paused / clock_resumed
    clock_stopped   the app closed, or a submission started (the clock stops there for good)
    time_limit      {"seconds": N}, journaled when the session is created

`WorkLog` folds these (and every other entry) into the working time, the
time at which each test started, and whether the person may work now. A
process killed without `clock_stopped` loses at most the time since its last
journaled tick or clock event: an open segment is counted up to the last
`at` it journaled, unless this process runs it (`live`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sessions.errors import Refused

TICK_SECONDS = 30.0  # what a kill -9 can lose at most
LOW_SECONDS = 300  # the time left is a warning in its last five minutes
CLOCK_TYPES = ("clock_started", "clock_tick", "clock_paused", "clock_resumed", "clock_stopped")
# Entries that change the code or spend the budget: not while paused, not after the limit.
WORK_TYPES = ("edit", "undo", "test_started")
LIMIT_UNITS = {"h": 3600, "m": 60, "s": 1}


def duration_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def parse_limit(text: str) -> float:
    """'2h', '90m', '1h30m', '45s' or plain seconds, as seconds; ValueError says what is accepted."""
    raw = text.strip().lower()
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?", raw)
    if not raw or parts is None:
        raise ValueError(f"time limit {text!r} is not a duration: write it as 2h, 90m, 1h30m or 45s")
    hours, minutes, seconds = (float(p) if p else 0.0 for p in parts.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"time limit {text!r} is no time at all: give a positive duration such as 2h")
    return total


@dataclass
class WorkLog:
    """The working clock as the journal has it (rebuilt entry by entry with the state)."""

    closed: float = 0.0  # seconds in finished segments
    since: float | None = None  # `at` of the running segment's start
    last: float | None = None  # the latest `at` journaled in the running segment
    paused: bool = False
    pauses: int = 0
    limit: float | None = None  # seconds of working time allowed
    submitted: bool = False
    at_tests: dict[int, float] = field(default_factory=dict)  # test n -> working time when it started
    problems: list[str] = field(default_factory=list)  # entries that do not fit the clock (verify reports them)
    # Process-local, never journaled: this process journaled the running segment's start
    # and reads the time from `clock` (the app's; tests inject theirs).
    live: bool = False
    clock: Callable[[], float] = time.time

    # -- reading ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.since is not None

    def seconds(self, journaled: bool = False) -> float:
        """Working time so far: up to now while this process runs the clock, else (or when
        `journaled`) up to the last journaled clock event."""
        if self.since is None:
            return self.closed
        end = self.clock() if self.live and not journaled else (self.last if self.last is not None else self.since)
        return self.closed + max(0.0, end - self.since)

    def remaining(self) -> float | None:
        return None if self.limit is None else self.limit - self.seconds()

    def refusal(self) -> str | None:
        """Why the person may not edit or start a test now (None: they may)."""
        if self.paused:
            return ("the session is paused (its working clock is stopped): resume it first "
                    "(p or F10 in the app); a test already running keeps running")
        left = self.remaining()
        if left is not None and left <= 0:
            return (f"the time limit of {duration_text(self.limit or 0)} of working time is used up: "
                    "only a submission is possible now (F9 in the app, or `session submit --n N`)")
        return None

    # -- applying journal entries -----------------------------------------------------------------
    def apply(self, type_: str, data: dict[str, Any], seq: int | None = None) -> None:
        """Fold one journal entry in; an entry that does not fit is noted in `problems`, never raised."""
        where = f"journal line {seq + 1} ({type_})" if seq is not None else type_
        if type_ in WORK_TYPES:
            self._check_may_work(where)
        if type_ == "test_started":  # the reading journaled as it started: the same live and rebuilt
            self.at_tests[int(data.get("n", len(self.at_tests) + 1))] = self.seconds(journaled=True)
        elif type_ == "submit_started":
            self.submitted = True
        elif type_ == "time_limit":
            self._set_limit(data.get("seconds"), where)
        elif type_ in CLOCK_TYPES:
            at = data.get("at")
            if not isinstance(at, (int, float)) or isinstance(at, bool) or not math.isfinite(at):
                self.problems.append(f"{where}: its time {at!r} is not a number of seconds")
                return
            getattr(self, "_" + type_)(float(at), where)

    def _check_may_work(self, where: str) -> None:
        if self.paused:
            self.problems.append(f"{where} was recorded while the clock was paused")
        left = None if self.limit is None else self.limit - self.seconds(journaled=True)
        if left is not None and left < 0:
            self.problems.append(f"{where} was recorded after the time limit ran out")

    def _set_limit(self, seconds: Any, where: str) -> None:
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
            self.problems.append(f"{where}: {seconds!r} is not a positive number of seconds")
        elif self.limit is not None or self.closed or self.running:
            self.problems.append(f"{where}: a time limit is set once, before any work")
        else:
            self.limit = float(seconds)

    def _advance(self, at: float, where: str) -> bool:
        """Move the running segment's last reading to `at`; False when there is none or time went back."""
        if self.since is None:
            self.problems.append(f"{where}: the clock was not running")
            return False
        if at < (self.last if self.last is not None else self.since):
            self.problems.append(f"{where}: its time goes back")
            return False
        self.last = at
        return True

    def _close(self) -> None:
        self.closed += max(0.0, (self.last if self.last is not None else self.since or 0.0) - (self.since or 0.0))
        self.since = self.last = None
        self.live = False

    def _open(self, at: float, where: str) -> None:
        if self.submitted:
            self.problems.append(f"{where}: the clock started again after the submission")
            return
        self.since = self.last = at

    def _clock_started(self, at: float, where: str) -> None:
        if self.paused:
            self.problems.append(f"{where}: the clock started while the session was paused")
            return
        if self.since is not None:  # the process before was killed: count up to its last reading
            self._close()
        self._open(at, where)

    def _clock_tick(self, at: float, where: str) -> None:
        self._advance(at, where)

    def _clock_paused(self, at: float, where: str) -> None:
        if self._advance(at, where):
            self._close()
            self.paused = True
            self.pauses += 1

    def _clock_resumed(self, at: float, where: str) -> None:
        if not self.paused:
            self.problems.append(f"{where}: the session was not paused")
            return
        self.paused = False
        self._open(at, where)

    def _clock_stopped(self, at: float, where: str) -> None:
        if self._advance(at, where):
            self._close()

    # -- a summary for exports and screens ------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What an export records (seconds rounded to tenths, so the manifest compares exactly)."""
        return {
            "total_s": round(self.seconds(), 1),
            "tests_s": {str(n): round(s, 1) for n, s in sorted(self.at_tests.items())},
            "pauses": self.pauses,
            "time_limit_s": self.limit,
        }

    def lines(self) -> list[str]:
        """The working time in words: in total, and when each test started."""
        total = f"Working time {duration_text(self.seconds())}"
        if self.pauses:
            total += f" ({self.pauses} pause{'s' if self.pauses > 1 else ''} not counted)"
        left = self.remaining()
        if self.limit is not None:
            total += f" of a {duration_text(self.limit)} limit ({duration_text(max(0.0, left or 0.0))} left)"
        if self.paused:
            total += ", paused"
        lines, previous = [total], 0.0
        for n, at in sorted(self.at_tests.items()):
            lines.append(f"test #{n} started at {duration_text(at)} (+{duration_text(at - previous)})")
            previous = at
        return lines


class WorkClock:
    """The app's side of the clock: journals its events for the open session it works in.

    `clock` is the app's (tests inject one); the engine reads the same one through
    the state's WorkLog when it decides whether an edit or a test may start."""

    def __init__(self, session, clock: Callable[[], float] = time.time):
        self.session = session
        session.state.work.clock = clock

    @property
    def log(self) -> WorkLog:
        return self.session.state.work

    def _record(self, type_: str, **data: Any) -> None:
        self.session.record(type_, at=self.log.clock(), **data)

    def start(self) -> bool:
        """The app opened: the clock runs, unless the session was left paused or is submitted."""
        log = self.log
        if not self.session.writable or log.paused or self.session.state.read_only:
            return False
        self._record("clock_started")
        log.live = True
        return True

    def tick(self) -> None:
        """Journal the clock's reading (every TICK_SECONDS, and as a test or a submission
        starts, so that it has its working time); once a submission started, stop it for good."""
        if not self.log.live:
            return
        if self.session.state.read_only:
            self._record("clock_stopped", why="submitted")
        else:
            self._record("clock_tick")

    def pause(self) -> None:
        if self.log.live:
            self._record("clock_paused")

    def resume(self) -> None:
        if self.session.state.read_only:
            return
        self._record("clock_resumed")
        self.log.live = True

    def stop(self) -> None:
        """The app closes (or the session does): the clock stops at this reading."""
        if self.log.live:
            self._record("clock_stopped", why="closed")


def set_time_limit(session, seconds: float) -> None:
    """Give a new session a limit on working time (journaled; set once, before any work)."""
    log = session.state.work
    if log.limit is not None or log.running or log.closed or session.state.edits or session.state.tests:
        raise Refused(f"session {session.id} has been worked on already: a time limit is set "
                      "when a session is created (`session new --time-limit 2h`)")
    session.record("time_limit", seconds=float(seconds))


def clock_text(log: WorkLog) -> tuple[str, str]:
    """(text, level) for the app's header: the working time, the time left under a limit,
    paused or used up; level: "" | low (the last five minutes) | paused | up."""
    worked = duration_text(log.seconds())
    left = log.remaining()
    if log.paused:
        return f"PAUSED at {worked} · F10 resumes", "paused"
    if left is None:
        return f"work {worked}", ""
    if left <= 0:
        return f"TIME UP {worked} · submit (F9)", "up"
    return f"work {worked} · {duration_text(left)} left", "low" if left <= LOW_SECONDS else ""
