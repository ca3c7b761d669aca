"""The CLI's side of issue 14: messages instead of tracebacks, JSON errors, the environment, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal

import pytest

from sessions.engine import Session
from sessions.environment import environment_problems
from sessions.preflight import Preflight
from tasks import TaskSpecError, load_task
from tests.conftest import FAKE_FILE, FIXTURE_TASKS
from tests.engine.test_resume import journal_types
from tui.cli import main


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "3")

    def run(*args, sessions_dir=tmp_path / "sessions"):
        code = main(["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(sessions_dir), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def new_id(cli) -> str:
    code, out, _ = cli("session", "new", "--task", "fake-task", "--json")
    assert code == 0
    return json.loads(out)["session"]


def test_a_relative_sessions_dir_from_the_command_line(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("session", "new", "--task", "fake-task", "--json", sessions_dir="rel")
    sid = json.loads(out)["session"]
    code, out, _ = cli("session", "test", "--session", sid, sessions_dir="rel")
    assert code == 0 and "test_acc_alpha=50.00" in out and "lost" not in out
    assert (tmp_path / "rel" / "fake-task" / sid / "tests" / "1" / "alpha.log").is_file()


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.py", "does not exist"),
    (lambda d: d, "is a folder"),
    (lambda d: (d / "latin1.py").write_bytes(b"SCORE = 1.0  # caf\xe9\n") and d / "latin1.py", "is not UTF-8 text"),
])
def test_bad_content_files_get_a_message(cli, tmp_path, make, message):
    sid = new_id(cli)
    code, out, err = cli("session", "edit", "--session", sid, "--file", FAKE_FILE, "--start", "14",
                         "--end", "14", "--content-file", str(make(tmp_path)))
    assert code == 2 and message in err and "Traceback" not in err


def test_json_errors_are_json(cli):
    code, out, err = cli("session", "submit", "--n", "1", "--json", "--session", new_id(cli))
    assert code == 2
    error = json.loads(out)
    assert "run a test first" in error["error"] and error["exit_status"] == 2


def test_json_usage_errors_are_json(cli):
    code, out, _ = cli("session", "edit", "--json", "--start", "1")
    assert code == 2 and "the following arguments are required" in json.loads(out)["error"]


def test_status_reads_a_session_another_process_holds(cli, fake_task, tmp_path):
    sid = new_id(cli)
    holder = Session.open(next((tmp_path / "sessions" / "fake-task").iterdir()), fake_task)
    try:
        code, out, _ = cli("session", "status", "--session", sid)
        assert code == 0 and "tests: 3 of 3 left" in out
        code, _, err = cli("session", "undo", "--session", sid)
        assert code == 2 and "open in another mlsbench-tui process" in err
    finally:
        holder.close()


def test_a_bad_environment_variable_is_named(cli, monkeypatch):
    monkeypatch.setenv("MLSBENCH_SLOTS", "abc")
    code, _, err = cli("session", "new", "--task", "fake-task")
    assert code == 2 and "MLSBENCH_SLOTS='abc': 'abc' is neither a count nor a CUDA device id" in err


def test_environment_problems_cover_every_variable(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("")
    problems = environment_problems({
        "MLSBENCH_SLOTS": "0", "MLSBENCH_JOB_NICE": "high", "MLSBENCH_PYTHON": "/no/python",
        "MLSBENCH_SESSIONS": str(a_file), "MLSBENCH_TASKS": str(tmp_path / "nope"),
        "MLSBENCH_SLURM_CONFIG": str(tmp_path / "slurm.toml"),
    })
    text = "\n".join(problems)
    for needle in ("MLSBENCH_SLOTS='0': at least one slot", "MLSBENCH_JOB_NICE='high'", "MLSBENCH_PYTHON='/no/python'",
                   "MLSBENCH_SESSIONS=", "is a file", "MLSBENCH_TASKS names", "MLSBENCH_SLURM_CONFIG="):
        assert needle in text
    assert environment_problems({"MLSBENCH_SLOTS": "0,0,1", "MLSBENCH_JOB_NICE": "5"}) == []


def test_a_huge_seed_is_refused_before_anything_is_made(cli, tmp_path):
    code, _, err = cli("session", "new", "--task", "fake-task", "--seed", "99999999999999999999999")
    assert code == 2 and "out of range" in err
    assert not (tmp_path / "sessions" / "fake-task").exists() or not any((tmp_path / "sessions" / "fake-task").iterdir())


def test_ctrl_c_at_the_instant_a_test_starts_cancels_it_and_leaves_nothing_queued(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MLSBENCH_SLOTS", "1")  # the second setting is still queued when the interrupt comes,
    monkeypatch.setenv("FAKE_SLEEP", "1")  # and the first still running, however busy the machine
    sid = new_id(cli)
    journaled = Session.record

    def record_then_interrupt(self, type_, **data):
        journaled(self, type_, **data)
        if type_ == "test_started":
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Session, "record", record_then_interrupt)
    code, out, err = cli("session", "test", "--session", sid)
    assert "cancelling the run" in err
    assert "[CANCELLED]" in out
    session_dir = next((tmp_path / "sessions" / "fake-task").iterdir())
    types = journal_types(session_dir)
    assert ("run_finished", None) in types
    view = Session.view(session_dir, load_task(FIXTURE_TASKS / "fake-task"))
    assert not view.state.tests[0].unfinished() and view.state.budget_left == 2


def test_ctrl_c_during_the_preflight_spends_nothing(cli, tmp_path, monkeypatch):
    sid = new_id(cli)

    def interrupted_preflight(self, run_dir, settings):
        raise KeyboardInterrupt

    monkeypatch.setattr(Preflight, "run", interrupted_preflight)
    code, _, err = cli("session", "test", "--session", sid)
    assert code == 130 and "nothing was spent" in err
    code, out, _ = cli("session", "status", "--session", sid)
    assert "tests: 3 of 3 left" in out


def test_a_range_past_the_end_of_its_file_is_a_broken_spec(tmp_path):
    import shutil

    folder = tmp_path / "fake-task"
    shutil.copytree(FIXTURE_TASKS / "fake-task", folder)
    toml = folder / "task.toml"
    toml.write_text(toml.read_text().replace("editable = [[14, 16]]", "editable = [[5000, 6000]]"))
    with pytest.raises(TaskSpecError, match=r"lines 5000-6000 lie past the end of fake_driver.py \(\d+ lines\)"):
        load_task(folder)


def test_the_nul_byte_message_names_no_line_none(new_session):
    session = new_session()
    session.state.files[FAKE_FILE] = session.state.files[FAKE_FILE].edited(14, 14, "X = 1\0")  # as if journaled
    problems = session.compile_problems()
    assert problems and "line None" not in problems[0]

