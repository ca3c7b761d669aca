"""The three published transcripts in ../shared/seeds import with the right steps.

The expected numbers were counted by reading the files:

- 000 (dl-activation-function): edit, test #1, undo, edit, test #2, undo,
  edit, test #3, submit(n=1). Results are cut after the first setting.
- 001 (cv-multitask-loss): edit, test #1, edit, test #2, edit, test #3,
  undo, edit, submit(n=2).
- 002 (optimization-bilevel): flattened, no step markers, two runs: edit,
  [Test #1], edit, [Test #2]; then [Test #1] again (a new run whose start is
  lost), edit, [Test #2], edit, [Test #3]; the file ends inside test #3, with
  no submission.
"""

from __future__ import annotations

import pytest

from sessions.replay import EditStep, SubmitStep, TestStep, format_replay, load_replay
from tests.conftest import SHARED

SEEDS = SHARED / "seeds"


def seed(name: str):
    matches = sorted(SEEDS.glob(f"{name}_*.txt")) if SEEDS.is_dir() else []
    if not matches:
        pytest.skip(f"seed transcript {name} not found in {SEEDS}")
    return load_replay(matches[0])


def kinds(replay, kind):
    return [s for s in replay.steps if s.kind == kind]


def test_seed_000_activation():
    result = seed("000")
    r = result.replay
    assert result.format == "agent-text"
    assert r.task_id == "dl-activation-function" and r.who == "deepseek-reasoner"
    assert r.runs == 1
    assert [s.kind for s in r.steps if s.kind != "text"] == [
        "edit", "test", "undo", "edit", "test", "undo", "edit", "test", "submit"]
    assert len(kinds(r, "edit")) == 3 and len(kinds(r, "test")) == 3 and len(kinds(r, "undo")) == 2
    tests = kinds(r, "test")
    assert [t.n for t in tests] == [1, 2, 3]
    assert [t.budget_left for t in tests] == [2, 1, 0]
    assert [t.settings[0].metrics for t in tests] == [
        {"test_acc_resnet20-cifar10": "93.01"},
        {"test_acc_resnet20-cifar10": "92.19"},
        {"test_acc_resnet20-cifar10": "10.00"},
    ]
    assert [s.label for s in tests[0].settings] == ["resnet20-cifar10", "vgg16bn-cifar100"]
    assert tests[0].settings[1].status == "incomplete"  # the transcript cuts it off
    assert r.submitted_test == 1
    assert r.final["test_acc_resnet20-cifar10"] == "93.01"
    edits = kinds(r, "edit")
    assert [(e.file, e.start, e.end, e.new_lines) for e in edits] == [
        ("pytorch-vision/custom_activation.py", 32, 49, 17),
        ("pytorch-vision/custom_activation.py", 32, 49, 16),
        ("pytorch-vision/custom_activation.py", 32, 49, 19),
    ]
    assert "Parametric Swish" in edits[0].content


def test_seed_001_multitask():
    r = seed("001").replay
    assert r.task_id == "cv-multitask-loss"
    assert [s.kind for s in r.steps if s.kind != "text"] == [
        "edit", "test", "edit", "test", "edit", "test", "undo", "edit", "submit"]
    assert len(kinds(r, "edit")) == 4 and len(kinds(r, "test")) == 3 and len(kinds(r, "undo")) == 1
    assert [t.n for t in kinds(r, "test")] == [1, 2, 3]
    assert [t.settings[0].metrics["test_acc_resnet20-cifar100mt"] for t in kinds(r, "test")] == ["66.55", "67.10", "24.69"]
    assert r.submitted_test == 2
    assert r.final == {"test_acc_resnet20-cifar100mt": "67.10"}
    assert [(e.start, e.end, e.new_lines) for e in kinds(r, "edit")] == [
        (195, 216, 23), (195, 217, 28), (195, 222, 16), (195, 222, 28)]


def test_seed_002_bilevel_flattened_two_runs():
    result = seed("002")
    r = result.replay
    assert r.task_id == "optimization-bilevel"
    assert r.runs == 2
    assert [s.kind for s in r.steps if s.kind != "text"] == [
        "edit", "test", "edit", "test", "test", "edit", "test", "edit", "test"]
    assert len(kinds(r, "edit")) == 4 and len(kinds(r, "test")) == 5 and kinds(r, "submit") == []
    tests = kinds(r, "test")
    assert [(t.run, t.n) for t in tests] == [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
    assert [t.budget_left for t in tests] == [2, 1, 2, 1, 0]
    assert r.submitted_test is None and r.final == {}
    first = tests[0]
    toy, linear = first.settings[0], first.settings[1]
    assert toy.label == "toy-convergence" and toy.status == "done"
    assert toy.values["convergence_steps"] == "7711.351000"
    assert linear.status == "failed" and linear.exit_code == 1
    assert tests[3].settings[0].status == "missing"  # "[output file not found: ...]"
    edits = kinds(r, "edit")
    assert [(e.start, e.end, e.new_lines) for e in edits] == [(216, 253, 36), (216, 251, 38), (216, 253, 36), (216, 251, 36)]
    assert any("flattened" in note for note in r.notes)


@pytest.mark.parametrize("name", ["000", "001", "002"])
def test_seeds_print_and_re_apply_where_the_scaffold_exists(name):
    result = seed(name)
    lines = list(format_replay(result.replay))
    assert sum(1 for line in lines if line.startswith("#")) == len(result.replay.steps)
    for step in result.replay.steps:
        if isinstance(step, EditStep) and step.applied:
            # a re-applied edit keeps every line outside its range
            assert step.before.lines[: step.start - 1] == step.after.lines[: step.start - 1]
            assert step.before.lines[step.end :] == step.after.lines[step.start - 1 + step.new_lines :]
        if isinstance(step, (TestStep, SubmitStep)):
            assert step.settings


def test_seeds_without_reapplying_show_the_agents_text():
    result = seed("000")
    r = load_replay(SEEDS / result.replay.path.rsplit("/", 1)[-1], reapply=False).replay
    edits = kinds(r, "edit")
    assert len(edits) == 3 and not any(e.applied for e in edits)
    diff = edits[0].diff()
    assert diff[0].startswith("@@ -32,18 +32,17 @@") and "+class CustomActivation(nn.Module):" in diff


def test_seed_tested_files_where_the_text_is_known():
    r = seed("001").replay
    edits = kinds(r, "edit")
    assert r.tested_files(2) == {edits[1].file: edits[1].after}  # test #2 ran the second edit
    assert r.submitted_test == 2 and not r.auto_submitted and r.last_tested == 3
    first, second = seed("002").replay.split_runs()
    assert second.tested_files(1) is None  # run 2 begins after steps the file does not hold
    assert second.tested_files(2) is not None and first.tested_files(1) is not None
