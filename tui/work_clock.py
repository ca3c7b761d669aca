"""The working clock as the header shows it."""

from __future__ import annotations

from sessions.worktime import WorkLog, duration_text

LOW_SECONDS = 300  # the remaining time turns to a warning colour in the last five minutes


def clock_text(log: WorkLog) -> tuple[str, str]:
    """(text, level) for the header: working time, the time left under a limit, paused or up."""
    worked = duration_text(log.seconds())
    left = log.remaining()
    if log.paused:
        return f"PAUSED at {worked} · F10 resumes", "paused"
    if left is None:
        return f"work {worked}", ""
    if left <= 0:
        return f"TIME UP {worked} · submit (F9)", "up"
    return f"work {worked} · {duration_text(left)} left", "low" if left <= LOW_SECONDS else ""
