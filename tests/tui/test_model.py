"""The app's pure parts: the event pump's bounds and the numbers the screens show."""

from __future__ import annotations

from sessions.events import DONE, RUNNING, LogLines, Progress, RunFinished, RunKey, SessionChanged, SettingStatus
from sessions.leaderboard import Row
from tui.bridge import EventPump
from sessions.leaderboard import mean_ranks
from tui.model import Curve, activity_text, budget_text, eta_text, profile_note, series

KEY = RunKey("test", 1)


def test_the_pump_carries_metrics_and_the_newest_progress_but_no_log_lines():
    woken = []
    pump = EventPump(wake=lambda: woken.append(1))
    for i in range(4):
        pump(LogLines(KEY, "alpha", [f"line {i}.{j}" for j in range(3)], [{"epoch": i}]))
        pump(Progress(KEY, "alpha", i, 10, "epoch", None))
    assert not woken  # metrics and progress never wake the UI; its timer drains them
    batch = pump.drain()
    assert batch.metrics[(KEY, "alpha")] == [{"epoch": i} for i in range(4)]
    assert batch.progress[(KEY, "alpha")].done == 3  # superseded: only the newest
    assert not hasattr(batch, "lines")  # the log views read the log files themselves
    assert pump.drain().empty


def test_the_pump_wakes_the_ui_for_status_end_and_changes_and_merges_repeats():
    woken = []
    pump = EventPump(wake=lambda: woken.append(1))
    queued = SettingStatus(KEY, "beta", "queued")
    pump(queued)
    pump(queued)  # the engine repeats "queued" while a job waits
    pump(RunFinished(KEY, "feedback"))
    pump(SessionChanged("edit"))
    batch = pump.drain()
    assert batch.statuses == [queued] and len(batch.finished) == 1 and batch.changed == ["edit"]
    assert len(woken) == 3


def test_a_curve_stays_bounded_and_keeps_its_shape():
    curve = Curve(max_points=100)
    curve.add({"epoch": i, "acc": i / 10} for i in range(1, 10_001))
    assert 50 <= len(curve.points) <= 100 and curve.count == 10_000
    assert curve.points[0]["epoch"] == 1 and curve.points[-1]["epoch"] > 9_800
    xs, ys = series(curve.points, "acc", "epoch", max_points=20)
    assert len(xs) <= 25 and xs == sorted(xs)


def test_budget_text_counts_down_and_then_calls_to_submit(session_factory):
    session = session_factory()
    assert budget_text(session.state) == ("Tests ●●● 3 of 3 left", "ok")
    session.test()
    session.test()
    assert budget_text(session.state) == ("Tests ●○○ 1 of 3 left", "last")
    session.test()
    text, level = budget_text(session.state)
    assert level == "spent" and "none left" in text and "F9" in text and "submit" in text
    session.submit(3)
    assert budget_text(session.state) == ("Submitted test #3 · session closed", "closed")


def test_profile_notes_and_ranks(fake_task):
    assert "not comparable" in profile_note(fake_task, "demo")
    assert "comparable" in profile_note(fake_task, "paper") and "not" not in profile_note(fake_task, "paper")
    rows = [Row("a", "x", {"m": 1.0, "n": 5.0}), Row("b", "x", {"m": 2.0, "n": None}), Row("c", "x", {})]
    assert mean_ranks(rows, {"m": "max", "n": "min"}) == [1.5, 1.0, None]
    assert eta_text(75) == "ETA 1:15" and eta_text(None) == ""


def test_the_header_names_the_running_settings_before_the_finished_and_queued(session_factory):
    session = session_factory()
    session.test()
    state = session.state
    record = state.tests[0]
    record.feedback = None  # as while it runs: alpha done, beta running
    record.settings["alpha"].status = DONE
    record.settings["beta"].status = RUNNING
    text, busy = activity_text(state, "…", None, False, lambda label: (2, 4) if label == "beta" else None)
    assert busy and text.startswith("▶ test #1: beta 2/4, alpha done")
