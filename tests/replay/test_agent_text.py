"""The plain-text transcript form: clean, flattened, cut, concatenated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sessions.replay import EditStep, SubmitStep, TestStep, TextStep, load_replay
from sessions.replay.agent_text import lenient_object
from sessions.replay.model import INCOMPLETE
from tests.replay.conftest import FIXTURES, no_text



def test_clean_transcript_matches_the_json_export(catalog):
    text = load_replay(FIXTURES / "fake_transcript.txt", catalog)
    json = load_replay(FIXTURES / "fake_clean.json", catalog)
    assert text.format == "agent-text" and text.skipped == []
    assert text.replay.who == "test-model" and text.replay.meta["total_steps"] == 6
    # the JSON has times (so test durations); the text has none
    assert [s.summary() for s in no_text(text.replay)] == [
        re.sub(r", \d+m\d+s$", "", s.summary()) for s in no_text(json.replay)]
    for a, b in zip(no_text(text.replay), no_text(json.replay)):
        if isinstance(a, EditStep):
            assert a.after == b.after and a.source_step == b.source_step
        if isinstance(a, (TestStep, SubmitStep)):
            assert a.text == b.text
    assert text.replay.final == json.replay.final


def test_messy_transcript(catalog, scaffold):
    result = load_replay(FIXTURES / "fake_transcript_messy.txt", catalog)
    r = result.replay
    assert result.skipped == ["1 byte sequence(s) that are not UTF-8 replaced by '\ufffd'"]
    assert r.runs == 3
    assert [(s.kind, s.run) for s in no_text(r)] == [
        ("edit", 1), ("test", 1), ("test", 1), ("test", 2), ("edit", 3), ("test", 3), ("test", 3), ("submit", 3)]
    # the prompt without a UserStep marker, and the listing glued to `Tool Input`
    prompt = r.steps[0]
    assert isinstance(prompt, TextStep) and prompt.role == "user" and prompt.text.startswith("Task: fake-task")
    assert "Tool Input" not in prompt.text and prompt.text.rstrip().split("\n")[-1].startswith("    10: ")
    # a tool input cut inside its content, its result glued to the closing brace
    cut = no_text(r)[0]
    assert cut.applied and not cut.exact
    assert cut.after.lines[13:19] == (
        "SCORE = 70.0", "CRASH_AT = None", "NOISE = 0.1", "EXTRA = [1, 2, 3, 4",
        "⋯ [2 line(s) of this edit are not in the source]", "⋯")
    assert [(x.start, x.end) for x in cut.ranges_after] == [(14, 19)]
    assert any("2 of its 6 lines are missing" in note for note in cut.notes)
    # flattened results on the following lines; test #1 after test #2 starts a new run
    t1, t2, t1b = no_text(r)[1:4]
    assert (t1.n, t1.status, t2.n, t1b.n) == (1, "partial", 2, 1)
    assert t1.settings[1].status == "failed" and t1.settings[1].exit_code == 1
    assert t2.results() == {"test_acc_alpha": "71.00", "test_acc_beta": "72.00"}
    assert "a new run begins here" in t1b.notes[0]
    # the concatenated second conversation; a test result arriving as a user message
    edit, ta, tb, sub = no_text(r)[4:]
    assert edit.before == scaffold and edit.after == scaffold.edited(14, 14, "SCORE = 75.0\n")
    assert (ta.n, tb.n) == (1, 2) and tb.source_step == 3
    assert isinstance(sub, SubmitStep) and sub.n == 2
    # the file ends inside the submission's output
    assert [s.label for s in sub.settings] == ["gamma", "alpha"] and sub.settings[1].status == INCOMPLETE
    assert r.final == {"test_acc_alpha": "77.00", "test_acc_beta": "78.00", "test_acc_gamma": "79.00"}
    assert any("\ufffd" in s.text for s in r.steps if isinstance(s, TextStep))


@pytest.mark.parametrize(
    "blob, reason",
    [
        (b"", "the file is empty"),
        (b"\n\n  \n", "the file is empty"),
        (b"hello\nworld\n", "no agent steps found: this does not look like an MLS-Bench transcript"),
        (b"\xff\xfe\x00garbage", "no agent steps found: this does not look like an MLS-Bench transcript"),
    ],
)
def test_not_a_transcript(tmp_path, catalog, blob, reason):
    path = tmp_path / "x.txt"
    path.write_bytes(blob)
    result = load_replay(path, catalog)
    assert reason in result.skipped
    assert [s.kind for s in result.replay.steps] in ([], ["text"])


def test_every_prefix_of_a_transcript_imports(catalog):
    """Cut anywhere (a truncated download): never an exception."""
    blob = (FIXTURES / "fake_transcript_messy.txt").read_bytes()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cut.txt"
        for end in range(0, len(blob), 97):
            path.write_bytes(blob[:end])
            result = load_replay(path, catalog)
            assert result.replay.runs >= 1


def test_step_markers_only_header(tmp_path, catalog):
    path = tmp_path / "t.txt"
    path.write_text("Agent Conversation: m\n\nModel: m\nTotal steps: 3\nMessages: 0\n", encoding="utf-8")
    result = load_replay(path, catalog)
    assert result.replay.steps == [] and result.replay.who == "m"


def test_assistant_text_before_the_tool_input_is_its_reasoning(tmp_path, catalog):
    path = tmp_path / "t.txt"
    path.write_text(
        "Agent Conversation: m\nUserStep 0\nTask: fake-task\nAssistantStep 1undo\nI will undo.\nTool Input\n1{\n2  \"n\": 1\n3}\n"
        "Tool ResultStep 1\nNothing to undo: no edit since the session began.\n",
        encoding="utf-8",
    )
    r = load_replay(path, catalog).replay
    assert [(s.kind, getattr(s, "role", None)) for s in r.steps] == [("text", "user"), ("text", "thinking"), ("undo", None)]
    assert r.steps[1].text == "I will undo." and r.steps[2].refused


@pytest.mark.parametrize(
    "text, expect, whole",
    [
        ('{"a": 1, "b": "x"}', {"a": 1, "b": "x"}, True),
        ('{\n  "op": "replace",\n  "start_line": 3,\n  "content": "a\\nb\\\\nc', {"op": "replace", "start_line": 3, "content": "a\nb\\nc"}, False),
        ('{"content": "ends in an escape \\', {"content": "ends in an escape "}, False),
        ('{"content": "\\u00e9t\\u00', {"content": "ét"}, False),
        ('{"n": 12', {"n": 12}, False),
        ('{"n"', {}, False),
        ("not json", {}, False),
        ('{\n "content": "cut here\n}', {"content": "cut here"}, False),
    ],
)
def test_lenient_object(text, expect, whole):
    assert lenient_object(text) == (expect, whole)
