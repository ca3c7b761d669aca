"""MLS-Bench agent conversations exported as JSON, clean and messy."""

from __future__ import annotations

import json

import pytest

from sessions.replay import EditStep, ReplayError, SubmitStep, TestStep, TextStep, UndoStep, load_replay
from tasks import Catalog
from tests.conftest import FAKE_FILE
from tests.replay.conftest import FIXTURES, no_text



def test_clean_conversation_re_applies_edits_to_the_scaffold(catalog, scaffold):
    result = load_replay(FIXTURES / "fake_clean.json", catalog)
    r = result.replay
    assert result.format == "agent-json" and result.skipped == []
    assert (r.task_id, r.who, r.runs, r.test_budget) == ("fake-task", "test-model", 1, 3)
    assert [s.kind for s in no_text(r)] == ["edit", "test", "undo", "edit", "test", "submit"]
    e1, _, undo, e2, _, _ = no_text(r)
    after1 = scaffold.edited(14, 14, "SCORE = 60.0\nEXTRA = 1\n")
    assert e1.applied and e1.exact and e1.before == scaffold and e1.after == after1
    assert [(x.start, x.end) for x in e1.ranges_after] == [(14, 17)]
    assert isinstance(undo, UndoStep) and undo.files[FAKE_FILE] == (after1, scaffold)
    assert e2.before == scaffold and e2.after == scaffold.edited(14, 16, "SCORE = 80.0\nCRASH_AT = None\nNOISE = 0.0\n")
    assert all(not s.notes for s in no_text(r))  # the snapshots agree with the re-applied files
    assert e1.time == "2026-01-05T10:01:00Z" and e1.source_step == 1


def test_clean_conversation_tests_and_final_table(catalog):
    r = load_replay(FIXTURES / "fake_clean.json", catalog).replay
    tests = [s for s in r.steps if isinstance(s, TestStep)]
    assert [(t.n, t.budget_left, t.status) for t in tests] == [(1, 2, "done"), (2, 1, "done")]
    assert tests[1].results() == {"test_acc_alpha": "80.00", "test_acc_beta": "81.00"}
    assert "TRAIN_METRICS: epoch=5" in tests[1].settings[0].output
    sub = r.steps[-1]
    assert isinstance(sub, SubmitStep) and sub.n == 2
    assert [s.label for s in sub.settings if s.hidden] == ["gamma"]
    assert r.final == {"test_acc_alpha": "80.00", "test_acc_beta": "81.00", "test_acc_gamma": "82.00"}
    thinking = [s for s in r.steps if isinstance(s, TextStep) and s.role == "thinking"]
    assert thinking[0].text == "Raise the score and add a constant."


def test_without_the_task_in_the_catalog_the_snapshots_are_the_scaffold(tmp_path, scaffold):
    """No local task: the export's first snapshot and the prompt's editable lines stand in."""
    result = load_replay(FIXTURES / "fake_clean.json", Catalog([tmp_path]))
    r = result.replay
    edits = [s for s in r.steps if isinstance(s, EditStep)]
    assert all(e.applied for e in edits)
    assert edits[0].before.text == scaffold.text and edits[0].after.lines[13:15] == ("SCORE = 60.0", "EXTRA = 1")
    assert any("first snapshot" in note for note in r.notes)
    assert any("not usable from the local catalog" in note for note in r.notes)


def test_without_task_or_snapshots_the_prompt_listing_is_the_scaffold(tmp_path, scaffold):
    data = json.loads((FIXTURES / "fake_clean.json").read_text(encoding="utf-8"))
    data["file_snapshots"] = []
    path = tmp_path / "conv.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    r = load_replay(path, Catalog([tmp_path / "none"])).replay
    edits = [s for s in r.steps if isinstance(s, EditStep)]
    assert all(e.applied for e in edits) and edits[0].before.text == scaffold.text
    assert any("as the task prompt lists it" in note for note in r.notes)
    # and with the listing cut short, edits keep the agent's text
    data["messages"][0]["content"] = data["messages"][0]["content"][:700]
    path.write_text(json.dumps(data), encoding="utf-8")
    r = load_replay(path, Catalog([tmp_path / "none"])).replay
    edits = [s for s in r.steps if isinstance(s, EditStep)]
    assert not any(e.applied for e in edits)
    assert "not re-applied" in edits[0].notes[0]
    assert edits[0].diff()[1:] == ["+SCORE = 60.0", "+EXTRA = 1"]


def test_messy_conversation(catalog, scaffold):
    result = load_replay(FIXTURES / "fake_messy.json", catalog)
    r = result.replay
    assert r.runs == 3
    assert sorted(result.skipped) == sorted([
        "message 16: no role and nothing to tell it by (keys: foo); left out",
        "message 17: not an object (str); left out",
        "'file_snapshots' is neither a list nor an object; left out",
    ])
    run1, run2, run3 = r.split_runs()
    # run 1: input as a JSON string, an unknown tool, a refused edit, a test result as a user message,
    # and a message without a role
    assert [s.kind for s in no_text(run1)] == ["edit", "edit", "test", "edit"]
    e1, refused, test, last = no_text(run1)
    assert e1.applied and e1.after == scaffold.edited(14, 14, "SCORE = 65.0\n")
    view = [s for s in run1.steps if isinstance(s, TextStep) and s.role == "tool"]
    assert view[0].title == "view" and "SCORE = 65.0" in view[0].text
    assert refused.refused and refused.before == refused.after == e1.after
    assert test.n == 1 and test.status == "partial"
    assert {s.label: s.status for s in test.settings} == {"alpha": "done", "beta": "failed"}
    assert last.applied and "no result recorded for this edit" in last.notes
    # run 2 starts again from the scaffold: the step counter went back to 0
    e, t, sub = no_text(run2)
    assert e.before == scaffold and e.applied and "no result recorded for this edit" in e.notes
    assert t.n == 1 and sub.n == 1 and sub.final["test_acc_gamma"] == "92.00"
    # run 3 (a second JSON object): an edit the scaffold refuses keeps the agent's text, the
    # file is unknown until the undo goes back past it
    bad, blind, undo, good = no_text(run3)
    assert not bad.applied and "cannot be re-applied" in bad.notes[0] and bad.content == "def main():  # changed\n"
    assert not blind.applied and "not re-applied" in blind.notes[0]
    assert undo.count == 2
    assert good.applied and good.before == scaffold
    assert r.final == sub.final


def test_truncated_file_keeps_the_complete_messages(catalog):
    result = load_replay(FIXTURES / "fake_truncated.json", catalog)
    assert [s.kind for s in no_text(result.replay)] == ["edit", "test"]
    assert result.skipped == ["the file is cut off inside 'messages': 5 complete entries kept, the rest is lost"]
    assert result.replay.task_id == "fake-task" and result.replay.who == "test-model"


def test_non_utf8_bytes_are_replaced(catalog):
    result = load_replay(FIXTURES / "fake_nonutf8.json", catalog)
    assert result.skipped == ["1 byte sequence(s) that are not UTF-8 replaced by '\ufffd'"]
    assert len(no_text(result.replay)) == 6
    assert "\ufffd" in result.replay.steps[1].text


def test_empty_conversation(catalog):
    result = load_replay(FIXTURES / "empty_conversation.json", catalog)
    assert result.replay.steps == [] and result.skipped == ["the conversation holds no messages"]
    assert result.replay.final == {} and result.replay.runs == 1


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "the file is empty"),
        ("{", "no JSON conversation could be read from the file"),
        ('{"messages": {"a": 1}}', "conversation 1: 'messages' is not a list; left out"),
        ('[{"role": "user", "content": "Task: fake-task"}, 2]', "message 2: not an object (int); left out"),
    ],
)
def test_broken_json_never_crashes(tmp_path, catalog, text, reason):
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    result = load_replay(path, catalog)
    assert reason in result.skipped


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[1, 2]", "a JSON list of 2 item(s), none of them a message or a conversation"),
        ('{"task_id": "fake-task"}', "a JSON object with no 'messages' (its keys: task_id)"),
        ('"just a string"', "a JSON str, not a conversation object"),
    ],
)
def test_json_that_is_no_conversation_is_refused_with_its_reason(tmp_path, catalog, text, reason):
    path = tmp_path / "other.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReplayError) as refused:
        load_replay(path, catalog)
    assert str(refused.value) == f"{path} is not an agent conversation: {reason}"


def test_a_list_of_conversations_and_content_blocks(tmp_path, catalog):
    conv = json.loads((FIXTURES / "fake_clean.json").read_text(encoding="utf-8"))
    conv["messages"][0]["content"] = [{"type": "text", "text": "Task: fake-task"}, {"type": "text", "text": "more"}]
    path = tmp_path / "two.json"
    path.write_text(json.dumps([conv, conv]), encoding="utf-8")
    r = load_replay(path, catalog).replay
    assert r.runs == 2 and len(r.of_kind("submit")) == 2
    assert r.steps[0].text == "Task: fake-task\nmore"
    first, second = r.split_runs()
    assert [s.summary() for s in first.steps] == [s.summary() for s in second.steps]
