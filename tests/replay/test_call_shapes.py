"""Each call shape of the published export format, counted as the conversation says (fixtures/shapes/)."""

from __future__ import annotations

import json

import pytest

from sessions.replay import EditStep, NotAConversation, SubmitStep, TestStep, format_replay, load_replay
from tests.conftest import FAKE_FILE
from tests.replay.conftest import FIXTURES, no_text

SHAPES = FIXTURES / "shapes"


def shape(catalog, name: str):
    return load_replay(SHAPES / f"{name}.json", catalog).replay


def summary(replay) -> str:
    return next(line for line in format_replay(replay) if " steps" in line and "edit" in line)


def final_line(replay) -> str:
    return next(line for line in format_replay(replay) if line.startswith(("Final results", "No submission")))


def test_a_test_result_without_its_header_is_a_test(catalog):
    r = shape(catalog, "test_without_header")
    first, second = r.tests()
    assert (first.n, first.status, first.refused) == (1, "done", False)
    assert first.results() == {"test_acc_alpha": "55.00", "test_acc_beta": "56.00"}
    assert any("no [Test #N] header" in note for note in first.notes)
    assert second.n == 2 and r.submitted_test == 2
    assert summary(r) == "6 steps: 2 edits, 0 undos, 2 tests, 1 submit"


def test_test_with_submit_argument_submits_or_is_refused(catalog):
    r = shape(catalog, "submit_through_test")
    assert [s.kind for s in no_text(r)] == ["edit", "test", "submit", "submit", "submit"]
    refused = r.refused()
    assert [(s.kind, s.n) for s in refused] == [("submit", 0), ("submit", 7)]
    assert "ERROR: Test #7 does not exist" in refused[1].notes[0]
    assert len(r.tests()) == 1 and r.submitted_test == 1
    assert r.final == {"test_acc_alpha": "61.00", "test_acc_beta": "62.00", "test_acc_gamma": "63.00"}
    assert summary(r) == "6 steps: 1 edit, 0 undos, 1 test, 1 submit"
    assert final_line(r) == "Final results (submitted test #1):"


def test_is_final_flag(catalog):
    r = shape(catalog, "is_final_flag")
    assert [s.kind for s in no_text(r)] == ["edit", "test", "edit", "test", "submit"]
    assert [t.n for t in r.tests()] == [1, 2]
    assert r.submitted_test == 1 and r.final["test_acc_gamma"] == "72.00" and not r.auto_submitted


def test_auto_submit_is_the_submission(catalog):
    r = shape(catalog, "auto_submit")
    last_test, sub = no_text(r)[-2:]
    assert isinstance(last_test, TestStep) and last_test.n == 3 and last_test.budget_left == 0
    assert "[auto-submit]" not in "".join(s.output for s in last_test.settings)
    assert isinstance(sub, SubmitStep) and sub.auto and sub.n == 3 and sub.status == "done"
    assert r.submitted_test == 3 and r.auto_submitted
    assert r.final == {"test_acc_alpha": "75.00", "test_acc_beta": "76.00", "test_acc_gamma": "77.00"}
    assert [s.label for s in sub.settings if s.hidden] == ["gamma"]
    assert summary(r) == "7 steps: 2 edits, 0 undos, 3 tests, 1 submit"
    assert final_line(r) == "Final results (submitted test #3):"


def test_auto_submit_without_hidden_output_takes_the_tests_results(catalog, tmp_path):
    text = (SHAPES / "auto_submit.json").read_text(encoding="utf-8")
    cut = text.replace("[auto-submit] Test budget exhausted: submitting result from test #3 as final.", "[auto-submit]")
    cut = cut[: cut.index("[auto-submit]") + len("[auto-submit]")] + '"}]}'
    path = tmp_path / "auto.json"
    path.write_text(cut, encoding="utf-8")
    r = load_replay(path, catalog).replay
    assert r.submitted_test == 3 and r.auto_submitted
    assert r.final == {"test_acc_alpha": "75.00", "test_acc_beta": "76.00"}


def test_error_results_are_refusals_that_count_for_nothing(catalog):
    r = shape(catalog, "refusals")
    assert [(s.kind, s.source_step) for s in r.refused()] == [
        ("submit", 1), ("edit", 2), ("edit", 3), ("undo", 5), ("test", 6)]
    unreadable, create = [s for s in r.refused() if isinstance(s, EditStep)]
    assert "arguments were not readable (Failed to parse tool arguments" in unreadable.notes[0]
    assert create.summary() == "create fake/helper.py, 1 line(s) (refused)"
    unknown = next(s for s in r.steps if s.source_step == 4)
    assert unknown.kind == "text" and "ERROR: Unknown tool" in unknown.text
    assert summary(r) == "10 steps: 1 edit, 0 undos, 1 test, 1 submit"
    assert "not counted: 5 refused call(s)" in list(format_replay(r))[3]
    assert r.tests()[0].n == 1 and r.submitted_test == 1


def test_after_line_is_ignored_by_a_replace(catalog, scaffold):
    r = shape(catalog, "refusals")
    edit = next(s for s in r.steps if isinstance(s, EditStep) and not s.refused)
    assert (edit.start, edit.end) == (14, 14) and edit.after == scaffold.edited(14, 14, "SCORE = 64.0\n")
    assert "after_line is ignored by the harness for a replace" in edit.notes


def test_the_tools_reply_says_which_lines_were_replaced(catalog, scaffold, tmp_path):
    text = (SHAPES / "refusals.json").read_text(encoding="utf-8").replace('"start_line": 14', '"start_line": 15', 1)
    path = tmp_path / "moved.json"
    path.write_text(text, encoding="utf-8")
    edit = next(s for s in load_replay(path, catalog).replay.steps if isinstance(s, EditStep) and not s.refused)
    assert (edit.start, edit.end) == (14, 14) and edit.after == scaffold.edited(14, 14, "SCORE = 64.0\n")
    assert "the call asked for lines 15..14; the tool replaced 14..14, as its reply says" in edit.notes


def test_an_accepted_create_makes_a_new_file(catalog, tmp_path):
    text = (SHAPES / "refusals.json").read_text(encoding="utf-8").replace(
        "ERROR: Creating new files is not allowed for this task.", "OK: Created fake/helper.py (1 line).")
    path = tmp_path / "create.json"
    path.write_text(text, encoding="utf-8")
    r = load_replay(path, catalog).replay
    create = next(s for s in r.steps if isinstance(s, EditStep) and s.op == "create")
    assert create.applied and not create.refused and create.after.text == "X = 1\n"
    assert r.tested_files(1)["fake/helper.py"].text == "X = 1\n"


def test_multi_seed_results_are_complete_with_their_mean(catalog):
    r = shape(catalog, "multi_seed")
    test = r.tests()[0]
    assert test.status == "done"
    alpha, beta = test.settings
    assert (alpha.label, alpha.status) == ("alpha", "done")
    assert alpha.seeds == {"42": {"test_acc_alpha": "60.00"}, "123": {"test_acc_alpha": "61.00"},
                           "456": {"test_acc_alpha": "65.00"}}
    assert alpha.metrics == {"test_acc_alpha": "62.00"} and beta.metrics == {"test_acc_beta": "62.00"}
    printed = "\n".join(format_replay(r))
    assert "alpha: done  test_acc_alpha=62.00 (mean of 3 seeds)" in printed
    assert "seed 456: test_acc_alpha=65.00" in printed


def test_multi_seed_with_a_seed_cut_off_is_incomplete(catalog, tmp_path):
    text = (SHAPES / "multi_seed.json").read_text(encoding="utf-8")
    cut = text[: text.index("Final metrics (beta): test_acc_beta=61.00")] + '"}]}'
    path = tmp_path / "cut.json"
    path.write_text(cut, encoding="utf-8")
    alpha, beta = load_replay(path, catalog).replay.tests()[0].settings
    assert alpha.status == "done" and alpha.metrics == {"test_acc_alpha": "62.00"}
    assert beta.status == "incomplete" and beta.metrics == {}
    assert beta.seeds["42"] == {"test_acc_beta": "62.00"} and beta.seeds["456"] == {}


def test_undo_with_a_count(catalog, scaffold):
    r = shape(catalog, "undo_many")
    undo2, undo1 = r.of_kind("undo")
    assert undo2.count == 2 and undo1.count == 1
    assert undo2.files[FAKE_FILE][1] == scaffold.edited(14, 14, "SCORE = 51.0\n")
    assert undo1.files[FAKE_FILE][1] == scaffold
    assert r.tested_files(1) == {FAKE_FILE: scaffold}
    assert summary(r) == "7 steps: 3 edits, 2 undos, 1 test, 0 submits"


def test_a_result_logged_after_the_next_runs_prompt_stays_with_its_call(catalog, scaffold):
    r = shape(catalog, "late_result")
    assert r.runs == 2
    first, second = r.split_runs()
    assert [s.kind for s in no_text(first)] == ["edit", "test"]
    assert first.tests()[0].results() == {"test_acc_alpha": "68.00", "test_acc_beta": "69.00"}
    assert "its result was logged after the next run's prompt" in first.tests()[0].notes
    assert first.submitted_test is None and first.last_tested == 1
    assert [s.kind for s in no_text(second)] == ["edit", "test", "submit"] and second.submitted_test == 1
    assert first.tested_files(1) == {FAKE_FILE: scaffold.edited(14, 14, "SCORE = 68.0\n")}
    assert second.tested_files(1) == {FAKE_FILE: scaffold.edited(14, 14, "SCORE = 58.0\n")}
    assert summary(r) == "7 steps in 2 runs: 2 edits, 0 undos, 2 tests, 1 submit"


def test_an_index_of_conversations_is_refused(catalog):
    with pytest.raises(NotAConversation, match="is not an agent conversation: a JSON object with no 'messages' "
                                          r"\(its keys: conversations, count, generated\)"):
        load_replay(SHAPES / "index.json", catalog)


def test_tested_files_and_run_start(catalog, scaffold):
    r = shape(catalog, "auto_submit")
    assert r.files_at(0) == {FAKE_FILE: scaffold}  # the scaffold, before the first edit
    assert r.files_at(1) == {FAKE_FILE: scaffold}  # the prompt: still the scaffold
    assert r.tested_files(1) == {FAKE_FILE: scaffold.edited(14, 14, "SCORE = 73.0\n")}
    assert r.tested_files(3) == {FAKE_FILE: scaffold.edited(14, 14, "SCORE = 75.0\n")}
    assert r.tested_files(4) is None and r.last_tested == 3


def test_tested_files_are_unknown_where_an_edit_is_cut(catalog, tmp_path):
    text = (SHAPES / "auto_submit.json").read_text(encoding="utf-8").replace(
        '"content": "SCORE = 75.0\\n"', '"content": "SCORE = 75.0\\n", "content_truncated": true')
    path = tmp_path / "cut.json"
    path.write_text(text, encoding="utf-8")
    r = load_replay(path, catalog).replay
    assert r.tested_files(1) is not None and r.tested_files(3) is None


@pytest.mark.parametrize("name", ["test_without_header", "submit_through_test", "is_final_flag", "auto_submit",
                                  "refusals", "multi_seed", "undo_many", "late_result"])
def test_every_shape_imports_cleanly(catalog, name):
    result = load_replay(SHAPES / f"{name}.json", catalog)
    assert result.skipped == []


def test_a_prompt_heading_names_the_task(catalog, tmp_path):
    data = json.loads((SHAPES / "undo_many.json").read_text(encoding="utf-8"))
    del data["task_id"]
    data["messages"][0]["content"] = "# Task: fake-task\n\n" + data["messages"][0]["content"].split("\n", 1)[1]
    path = tmp_path / "heading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    r = load_replay(path, catalog).replay
    assert r.task_id == "fake-task" and r.tested_files(1) is not None
