"""The whole run's ETA in the header: the running settings' own estimates, the queued ones
placed in the slots as they free up, sized by their last run in the session or else by the
running settings; no number where one cannot be backed."""

from __future__ import annotations

from sessions.events import DONE, QUEUED, RUNNING, RunKey
from sessions.state import RunRecord, SessionState, SettingRecord
from tests.pilot import confirm_test, wait_for
from tests.tui.conftest import make_app, static_text
from tests.tui.test_run_tabs import slow_alpha
from tui.eta import RunningEstimate, whole_test_eta


def run(n: int, **settings: SettingRecord) -> RunRecord:
    return RunRecord(RunKey("test", n), {label: s for label, s in settings.items()}, "2026-01-01T12:00:00+00:00")


def halfway(seconds_left: float) -> RunningEstimate:
    """Half of the epochs done, `seconds_left` to go (so a whole run of twice that)."""
    return RunningEstimate(done=2, total=4, remaining=seconds_left, eta_then=seconds_left)


def test_a_queued_setting_never_run_takes_as_long_as_the_running_one_after_it_in_one_slot():
    now = run(1, alpha=SettingRecord("alpha", RUNNING), beta=SettingRecord("beta", QUEUED))
    state = SessionState(tests=[now])
    assert whole_test_eta(state, now, 1, {"alpha": halfway(30)}) == 30 + 60
    assert whole_test_eta(state, now, 2, {"alpha": halfway(30)}) == 60  # a free slot: side by side
    finishing = RunningEstimate(done=4, total=4, remaining=0.0, eta_then=0.0)  # all epochs done, still ending
    assert whole_test_eta(state, now, 1, {"alpha": finishing}) is None  # no rate left to size beta by


def test_a_queued_setting_takes_what_it_took_in_the_previous_test():
    before = run(1, alpha=SettingRecord("alpha", DONE), beta=SettingRecord(
        "beta", DONE, started_at="2026-01-01T12:00:00+00:00", ended_at="2026-01-01T12:00:45+00:00"))
    now = run(2, alpha=SettingRecord("alpha", RUNNING), beta=SettingRecord("beta", QUEUED))
    assert whole_test_eta(SessionState(tests=[before, now]), now, 1, {"alpha": halfway(30)}) == 30 + 45


def test_no_number_without_backing():
    now = run(1, alpha=SettingRecord("alpha", RUNNING), beta=SettingRecord("beta", QUEUED))
    state = SessionState(tests=[now])
    assert whole_test_eta(state, now, 1, {}) is None  # alpha has no progress yet
    held = run(1, alpha=SettingRecord("alpha", RUNNING), beta=SettingRecord("beta", QUEUED, detail="Resources"))
    assert whole_test_eta(SessionState(tests=[held]), held, 1, {"alpha": halfway(30)}) is None  # a cluster's queue


async def test_the_header_shows_the_whole_tests_eta_with_the_queued_setting(session_factory, monkeypatch):
    slow_alpha(monkeypatch, epochs=6, sleep=0.5)
    session = session_factory()  # one slot: beta waits behind alpha
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await confirm_test(pilot, app)
        await wait_for(pilot, lambda: "left)" in static_text(app, "#activity"), what="the whole test's ETA")
        assert "beta queued" in static_text(app, "#activity")
        await wait_for(pilot, lambda: session.state.tests[0].finished, timeout=30, what="the test")
