"""`mlsbench-tui replay --print | --json PATH`: the counts the raw files imply, in the lines other tools read."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURE_TASKS, SHARED
from tests.replay.conftest import FIXTURES
from tui.cli import main

SHAPES = FIXTURES / "shapes"


@pytest.fixture
def replay_cli(capsys, tmp_path):
    def run(*args):
        code = main(["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(tmp_path), "replay", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def counted(out: str) -> tuple[str, str]:
    lines = out.splitlines()
    summary = next(line for line in lines if " steps" in line and " edit" in line)
    final = next(line for line in lines if line.startswith(("Final results", "No submission")))
    return summary, final


# Counted by reading the raw files (see test_seeds.py for the step sequences).
SEED_COUNTS = {
    "000": ("10 steps: 3 edits, 2 undos, 3 tests, 1 submit", "Final results (submitted test #1):"),
    "001": ("10 steps: 4 edits, 1 undo, 3 tests, 1 submit", "Final results (submitted test #2):"),
    "002": ("10 steps in 2 runs: 4 edits, 0 undos, 5 tests, 0 submits", "No submission: there is no final table."),
}


@pytest.mark.parametrize("name", sorted(SEED_COUNTS))
def test_print_counts_the_seed_transcripts(replay_cli, name):
    matches = sorted((SHARED / "seeds").glob(f"{name}_*.txt")) if (SHARED / "seeds").is_dir() else []
    if not matches:
        pytest.skip(f"seed transcript {name} not found")
    code, out, _ = replay_cli("--print", str(matches[0]))
    assert code == 0 and counted(out) == SEED_COUNTS[name]


SHAPE_COUNTS = {
    "test_without_header": ("6 steps: 2 edits, 0 undos, 2 tests, 1 submit", "Final results (submitted test #2):"),
    "submit_through_test": ("6 steps: 1 edit, 0 undos, 1 test, 1 submit", "Final results (submitted test #1):"),
    "is_final_flag": ("6 steps: 2 edits, 0 undos, 2 tests, 1 submit", "Final results (submitted test #1):"),
    "auto_submit": ("7 steps: 2 edits, 0 undos, 3 tests, 1 submit", "Final results (submitted test #3):"),
    "refusals": ("10 steps: 1 edit, 0 undos, 1 test, 1 submit", "Final results (submitted test #1):"),
    "multi_seed": ("4 steps: 1 edit, 0 undos, 1 test, 1 submit", "Final results (submitted test #1):"),
    "undo_many": ("7 steps: 3 edits, 2 undos, 1 test, 0 submits", "No submission: there is no final table."),
    "late_result": ("7 steps in 2 runs: 2 edits, 0 undos, 2 tests, 1 submit", "Final results (submitted test #1):"),
}


@pytest.mark.parametrize("suffix", [".json", ".txt"])  # the JSON export and the plain-text transcript
@pytest.mark.parametrize("name", sorted(SHAPE_COUNTS))
def test_print_counts_each_shape(replay_cli, name, suffix):
    code, out, err = replay_cli("--print", str(SHAPES / f"{name}{suffix}"))
    assert code == 0 and err == ""
    assert counted(out) == SHAPE_COUNTS[name]


def test_json_has_the_steps_counts_and_final(replay_cli):
    code, out, _ = replay_cli("--json", str(SHAPES / "refusals.json"))
    data = json.loads(out)
    assert code == 0 and data["task_id"] == "fake-task" and data["runs"] == 1
    assert data["counts"] == {"edit": 1, "undo": 0, "test": 1, "submit": 1, "refused": 5}
    assert data["submissions"] == [{"run": 1, "submitted_test": 1, "auto_submitted": False, "last_tested": 1,
                                    "final": {"test_acc_alpha": "64.00", "test_acc_beta": "65.00",
                                              "test_acc_gamma": "66.00"}}]
    assert [s["kind"] for s in data["steps"]][:3] == ["text", "submit", "edit"]
    assert data["steps"][1]["refused"] is True
    edit = next(s for s in data["steps"] if s["kind"] == "edit" and not s["refused"])
    assert (edit["start"], edit["end"], edit["content"], edit["ranges_after"]) == (14, 14, "SCORE = 64.0\n", [[14, 16]])


def test_json_keeps_per_seed_values(replay_cli):
    _, out, _ = replay_cli("--json", str(SHAPES / "multi_seed.json"))
    test = next(s for s in json.loads(out)["steps"] if s["kind"] == "test")
    alpha = test["settings"][0]
    assert alpha["metrics"] == {"test_acc_alpha": "62.00"} and alpha["seeds"]["456"] == {"test_acc_alpha": "65.00"}


def test_a_file_that_is_no_conversation_exits_non_zero_with_one_line(replay_cli):
    code, out, err = replay_cli("--print", str(SHAPES / "index.json"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "is not an agent conversation: a JSON object with no 'messages'" in err
