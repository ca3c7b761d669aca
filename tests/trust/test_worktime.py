"""Working time: the clock's journal entries, pauses, the time limit, and what a kill loses."""

from __future__ import annotations

import pytest

from sessions.errors import Refused
from sessions.notes import add_note, session_notes
from sessions.state import SessionState
from sessions.worktime import WorkClock, WorkLog, parse_limit, set_time_limit
from tests.conftest import FAKE_FILE


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def fold(*events: tuple[str, dict]) -> WorkLog:
    log = WorkLog()
    for seq, (type_, data) in enumerate(events):
        log.apply(type_, data, seq)
    return log


def test_pauses_are_not_counted_and_each_test_has_its_working_time():
    log = fold(("clock_started", {"at": 100}), ("clock_tick", {"at": 130}), ("test_started", {"n": 1}),
               ("clock_paused", {"at": 160}), ("clock_resumed", {"at": 1160}), ("clock_tick", {"at": 1190}),
               ("test_started", {"n": 2}), ("clock_stopped", {"at": 1200}))
    assert log.seconds() == 100 and log.pauses == 1 and not log.running and log.problems == []
    assert log.at_tests == {1: 30, 2: 90}
    assert log.lines() == ["Working time 0:01:40 (1 pause not counted)",
                               "test #1 started at 0:00:30 (+0:00:30)", "test #2 started at 0:01:30 (+0:01:00)"]


def test_a_killed_app_loses_only_the_time_since_its_last_tick():
    # The app was killed at 200 (no clock_stopped); it last ticked at 130. Opened again at 5000.
    log = fold(("clock_started", {"at": 100}), ("clock_tick", {"at": 130}), ("clock_started", {"at": 5000}),
               ("clock_tick", {"at": 5010}))
    assert log.seconds() == 40  # 30 before the kill, 10 since: the 70 s after the last tick are lost
    assert log.problems == []


def test_clock_entries_that_do_not_fit_are_reported_not_raised():
    log = fold(("clock_tick", {"at": 5}), ("clock_started", {"at": 100}), ("clock_tick", {"at": 90}),
               ("clock_resumed", {"at": 95}), ("clock_paused", {"at": "soon"}), ("time_limit", {"seconds": 60}))
    assert log.problems == [
        "journal line 1 (clock_tick): the clock was not running",
        "journal line 3 (clock_tick): its time goes back",
        "journal line 4 (clock_resumed): the session was not paused",
        "journal line 5 (clock_paused): its time 'soon' is not a number of seconds",
        "journal line 6 (time_limit): a time limit is set once, before any work",
    ]


def test_work_while_paused_or_after_the_limit_is_reported():
    log = fold(("time_limit", {"seconds": 60}), ("clock_started", {"at": 0}), ("clock_paused", {"at": 10}),
               ("edit", {}), ("clock_resumed", {"at": 20}), ("clock_tick", {"at": 95}), ("test_started", {"n": 1}))
    assert log.problems == ["journal line 4 (edit) was recorded while the clock was paused",
                            "journal line 7 (test_started) was recorded after the time limit ran out"]


@pytest.mark.parametrize("text, seconds", [("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("45s", 45), ("600", 600)])
def test_time_limits_are_written_as_durations(text, seconds):
    assert parse_limit(text) == seconds


@pytest.mark.parametrize("text", ["", "two hours", "0", "0h", "-5m", "1d"])
def test_a_bad_time_limit_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="time limit"):
        parse_limit(text)


def test_a_paused_session_refuses_edits_and_tests_and_a_resumed_one_takes_them(new_session):
    session = new_session()
    clock = WorkClock(session, FakeClock())
    assert clock.start()
    clock.pause()
    with pytest.raises(Refused, match="paused .*resume it first"):
        session.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\n")
    with pytest.raises(Refused, match="paused"):
        session.start_test()
    assert session.state.budget_left == 3 and session.state.edits == 0
    add_note(session, "thinking about the learning rate while paused")  # notes are always allowed
    clock.resume()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\n")
    assert session.state.edits == 1


def test_the_time_limit_counts_working_time_only_and_then_refuses_work(new_session):
    session = new_session()
    set_time_limit(session, 600)
    now = FakeClock()
    clock = WorkClock(session, now)
    clock.start()
    now.now += 300
    clock.pause()
    now.now += 10_000  # a long pause costs nothing
    clock.resume()
    assert session.state.work.remaining() == 300
    now.now += 300
    with pytest.raises(Refused, match="time limit of 0:10:00 of working time is used up: only a submission"):
        session.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\n")
    with pytest.raises(Refused, match="there is no test #1 to submit"):  # submitting is still allowed
        session.start_submit(1)
    with pytest.raises(Refused, match="a time limit is set when a session is created"):
        set_time_limit(session, 6000)


def test_the_journal_gives_back_the_working_time_after_a_restart(new_session):
    session = new_session()
    now = FakeClock()
    clock = WorkClock(session, now)
    clock.start()
    now.now += 125
    clock.tick()
    now.now += 20
    clock.stop()
    state = SessionState()
    for entry in session.journal.entries:
        state.apply(entry.type, entry.data, entry.time)
    assert state.work.seconds() == 145 and not state.work.running


def test_notes_record_their_step_and_refuse_empty_or_huge_text(new_session):
    session = new_session()
    add_note(session, "# plan\n- try **DWA**\n")
    session.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\n")
    add_note(session, "after the edit")
    notes = session_notes(session.journal.entries)
    assert [(n.text, n.step, n.tests) for n in notes] == [
        ("# plan\n- try **DWA**", "before the first test", 0),
        ("after the edit", "before the first test (1 edit saved)", 0),
    ]
    with pytest.raises(Refused, match="empty"):
        add_note(session, "  \n")
    with pytest.raises(Refused, match="more than the 65536"):
        add_note(session, "x" * 70_000)
    assert len(session_notes(session.journal.entries)) == 2
