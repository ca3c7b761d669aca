"""A whole session on the fake driver, and every refusal on the way."""

import json

import pytest

from sessions.errors import Refused
from sessions.events import LogLines, Progress, RunFinished, SettingStatus
from sessions.processes import group_alive
from sessions.ranges import EditRefused
from tests.conftest import FAKE_FILE


def region(session):
    return session.ranges(FAKE_FILE)[0]


def test_full_session_three_tests_budget_and_submit_with_hidden(new_session):
    session = new_session()
    events = []
    session.subscribe(events.append)
    assert session.state.budget_left == 3

    message = session.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\n# two lines now\n")
    assert "Editable range: 14-17" in message
    first = session.test()
    assert first.startswith("[Test #1] (2 tests remaining")
    assert "Final metrics (alpha): test_acc_alpha=60.00" in first
    assert "Final metrics (beta): test_acc_beta=61.00" in first
    assert "gamma" not in first  # hidden settings do not run in tests
    assert session.state.budget_left == 2

    session.edit(FAKE_FILE, 14, 15, "SCORE = 75.0")
    second = session.test()
    assert "test_acc_alpha=75.00" in second and session.state.budget_left == 1
    session.undo()
    third = session.test()
    assert "test_acc_alpha=60.00" in third
    assert "[NOTE] This was your last test" in third
    assert session.state.budget_left == 0

    with pytest.raises(Refused, match="no tests left"):
        session.test()

    final = session.submit(2)
    assert final.startswith("[submit] Submitting result from test #2 as final.")
    assert "test_acc_gamma=77.00" in final  # the hidden setting ran on test 2's snapshot
    assert session.final_results() == {
        "test_acc_alpha": "75.00", "test_acc_beta": "76.00", "test_acc_gamma": "77.00",
    }
    assert session.state.closed
    with pytest.raises(Refused, match="closed"):
        session.edit(FAKE_FILE, 14, 14, "SCORE = 1.0")

    # logs, exit codes and parsed results are on disk, per test and setting
    test_dir = session.dir / "tests" / "2"
    assert (test_dir / "alpha.exit").read_text().strip() == "0"
    assert "TRAIN_METRICS: epoch=5" in (test_dir / "alpha.log").read_text()
    assert "SCORE = 75.0" in (test_dir / "run" / FAKE_FILE).read_text()
    results = json.loads((test_dir / "results.json").read_text())
    assert results["settings"]["beta"]["results"] == {"test_acc_beta": "76.00"}
    assert (session.dir / "submit" / "gamma.log").exists()

    kinds = {type(e) for e in events}
    assert {LogLines, Progress, RunFinished, SettingStatus} <= kinds
    progress = [e for e in events if isinstance(e, Progress) and e.label == "alpha"]
    assert progress[-1].done == progress[-1].total == 5 and progress[-1].unit == "epoch"


def test_edit_outside_the_range_is_refused_and_changes_nothing(new_session):
    session = new_session()
    before = session.disk_text(FAKE_FILE)
    with pytest.raises(EditRefused, match="editable lines: 14-16"):
        session.edit(FAKE_FILE, 12, 14, "x = 1")
    with pytest.raises(Refused, match="not an editable file"):
        session.edit("fake/other.py", 1, 1, "x")
    assert session.disk_text(FAKE_FILE) == before
    assert session.state.edits == 0


def test_undo_restores_the_state_before_the_last_edit(new_session):
    session = new_session()
    original = session.disk_text(FAKE_FILE)
    session.edit(FAKE_FILE, 14, 16, "SCORE = 1.0")
    after_first = session.disk_text(FAKE_FILE)
    session.edit(FAKE_FILE, 14, 14, "SCORE = 2.0\nNOISE = 0.5\nCRASH_AT = None")
    assert region(session).end == 16
    session.undo()
    assert session.disk_text(FAKE_FILE) == after_first and region(session).end == 14
    session.undo()
    assert session.disk_text(FAKE_FILE) == original and region(session).end == 16
    with pytest.raises(Refused, match="nothing to undo"):
        session.undo()


def test_integrity_check_catches_a_change_made_outside_the_engine(new_session):
    session = new_session()
    path = session.workspace / FAKE_FILE
    text = path.read_text()
    path.write_text(text.replace("import time", "import time  # sneaky"))
    with pytest.raises(Refused, match="touches fixed lines") as info:
        session.test()
    assert "nothing spent" in str(info.value)
    assert session.state.budget_left == 3
    assert not (session.dir / "tests" / "1").exists()


def test_change_inside_the_range_from_another_editor_is_recorded_by_sync(new_session):
    session = new_session()
    path = session.workspace / FAKE_FILE
    path.write_text(path.read_text().replace("SCORE = 50.0", "SCORE = 55.0\nEXTRA = 1"))
    with pytest.raises(Refused, match="inside the editable lines"):
        session.test()
    messages = session.sync_from_disk()
    assert messages and "Editable range: 14-17" in messages[0]
    assert "test_acc_alpha=55.00" in session.test()


def test_whole_file_save_that_keeps_fixed_lines_becomes_an_edit(new_session):
    session = new_session()
    text = session.disk_text(FAKE_FILE)
    assert session.replace_text(FAKE_FILE, text) is None
    session.replace_text(FAKE_FILE, text.replace("NOISE = 0.0", "NOISE = 0.0\nMORE = 2"))
    assert region(session).end == 17 and session.state.edits == 1
    with pytest.raises(EditRefused, match="line 1 of fake/fake_driver.py is fixed"):
        session.replace_text(FAKE_FILE, "# new first line\n" + text)


def test_code_that_does_not_compile_spends_nothing(new_session):
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = (50.0")
    with pytest.raises(Refused, match=r"does not compile: .* \(line 14"):
        session.test()
    assert session.state.budget_left == 3


def test_a_failing_preflight_spends_nothing(new_session, monkeypatch):
    session = new_session()
    monkeypatch.setenv("FAKE_CHECK_FAIL", "1")
    with pytest.raises(Refused) as info:
        session.test()
    assert "alpha: preflight failed" in str(info.value)
    assert "CHECK FAILED: dataset for alpha missing" in str(info.value)
    assert session.state.budget_left == 3
    monkeypatch.delenv("FAKE_CHECK_FAIL")
    assert "[Test #1]" in session.test()


def test_a_crashing_driver_is_reported_and_not_refunded(new_session):
    session = new_session()
    session.edit(FAKE_FILE, 15, 15, "CRASH_AT = 3")
    feedback = session.test()
    assert "[COMMAND FAILED exit=1]" in feedback
    assert "RuntimeError: fake crash at epoch 3" in feedback
    assert session.state.budget_left == 2
    record = session.state.tests[0].settings["alpha"]
    assert record.status == "failed" and record.exit_code == 1 and record.results == {}


def test_cancel_kills_the_process_group_and_keeps_the_budget_spent(new_session, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "200")
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    session = new_session()
    controller = session.start_test()
    for _ in range(100):
        if session.state.tests[0].settings["alpha"].job_id:
            break
        controller.wait(0.05)
    pgid = int(session.state.tests[0].settings["alpha"].job_id)
    session.cancel()
    assert controller.wait(30)
    record = session.state.tests[0]
    assert record.settings["alpha"].status == "cancelled"
    assert record.settings["beta"].status == "cancelled"  # never started
    assert "[CANCELLED]" in record.feedback
    assert session.state.budget_left == 2
    assert not group_alive(pgid)  # a zombie left to a late-reaping init has ended too


def test_submit_needs_a_finished_test(new_session):
    session = new_session()
    with pytest.raises(Refused, match="run a test first"):
        session.submit(1)
    session.test()
    with pytest.raises(Refused, match="choose 1..1"):
        session.submit(2)


def test_settings_run_in_parallel_with_two_slots(new_session, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    session = new_session()
    session.slot_envs = [{}, {}]
    session.test()
    alpha, beta = (session.state.tests[0].settings[k] for k in ("alpha", "beta"))
    # both started before either ended
    assert alpha.started_at < beta.ended_at and beta.started_at < alpha.ended_at


def test_feedback_keeps_the_tasks_setting_order(tmp_path):
    """Settings run and report in the task's order, not alphabetically."""
    import shutil
    import sys

    from sessions.engine import Session
    from tasks import load_task
    from tests.conftest import FIXTURE_TASKS

    folder = tmp_path / "fake-task"
    shutil.copytree(FIXTURE_TASKS / "fake-task", folder)
    toml = folder / "task.toml"
    toml.write_text(toml.read_text().replace('"alpha"', '"zulu"').replace("--label alpha", "--label zulu"))
    session = Session.create(load_task(folder), sessions_dir=tmp_path / "s", profile="demo",
                             python=sys.executable, slots=[{}])
    try:
        assert [s.label for s in session.settings(hidden=False)] == ["zulu", "beta"]
        feedback = session.test()
        assert feedback.index("### zulu") < feedback.index("### beta")
    finally:
        session.close()


def test_a_line_limit_delivers_the_last_lines_and_still_reads_every_metric(new_session, monkeypatch):
    """A screen asks for at most N lines per event: the rest is counted, the metrics all parsed."""
    monkeypatch.setenv("FAKE_SPAM", "3000")
    session = new_session()
    events = []
    session.subscribe(events.append, lines_per_event=50)
    feedback = session.test()
    assert "test_acc_alpha=50.00" in feedback
    batches = [e for e in events if isinstance(e, LogLines) and e.label == "alpha"]
    assert all(len(e.lines) <= 50 for e in batches) and any(e.skipped for e in batches)
    on_disk = (session.dir / "tests" / "1" / "alpha.log").read_text().splitlines()
    assert sum(len(e.lines) + e.skipped for e in batches) == len(on_disk)
    assert batches[-1].lines == on_disk[-len(batches[-1].lines):]
    assert [row["epoch"] for e in batches for row in e.metrics] == [1, 2, 3, 4, 5]


def test_each_subscriber_gets_its_own_line_limit(new_session, monkeypatch):
    """One view's limit does not cut what another, taking every line, receives."""
    monkeypatch.setenv("FAKE_SPAM", "3000")
    session = new_session()
    every, limited = [], []
    session.subscribe(every.append)
    session.subscribe(limited.append, lines_per_event=20)
    session.test()
    on_disk = (session.dir / "tests" / "1" / "alpha.log").read_text().splitlines()
    full = [e for e in every if isinstance(e, LogLines) and e.label == "alpha"]
    cut = [e for e in limited if isinstance(e, LogLines) and e.label == "alpha"]
    assert [line for e in full for line in e.lines] == on_disk and not any(e.skipped for e in full)
    assert all(len(e.lines) <= 20 for e in cut) and any(e.skipped for e in cut)
    assert sum(len(e.lines) + e.skipped for e in cut) == len(on_disk)


def test_a_limit_of_zero_reports_growth_and_metrics_but_no_lines(new_session, monkeypatch):
    """The app's log views read the log files: they ask for no lines, only counts and metrics."""
    monkeypatch.setenv("FAKE_SPAM", "300")
    session = new_session()
    events = []
    session.subscribe(events.append, lines_per_event=0)
    session.test()
    batches = [e for e in events if isinstance(e, LogLines) and e.label == "alpha"]
    on_disk = (session.dir / "tests" / "1" / "alpha.log").read_text().splitlines()
    assert not any(e.lines for e in batches) and sum(e.skipped for e in batches) == len(on_disk)
    assert [row["epoch"] for e in batches for row in e.metrics] == [1, 2, 3, 4, 5]


def test_a_negative_line_limit_is_refused(new_session):
    with pytest.raises(ValueError, match="lines_per_event must be 0 or more"):
        new_session().subscribe(print, lines_per_event=-1)
