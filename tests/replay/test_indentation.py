"""Indentation a flattened text transcript lost, put back only where it is certain (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sessions.replay import EditStep
from sessions.replay.indentation import recover_indentation
from sessions.rescore_candidates import agent_runs
from tests.conftest import ROOT
from tests.replay.conftest import FIXTURES
from tests.replay.test_seeds import seed

BILEVEL = ROOT / "tasks" / "optimization-bilevel"


def collapse(text: str) -> str:
    """What the flattened transcripts did: every run of whitespace within a line became one space."""
    return "\n".join(re.sub(r"[ \t]+", " ", line) for line in text.split("\n"))


def bilevel_regions() -> dict[str, str]:
    scaffold = (ROOT / "drivers" / "bilevel" / "custom_strategy.py").read_text().split("\n")
    regions = {"default": "\n".join(scaffold[215:253])}
    for path in sorted((BILEVEL / "baselines").glob("*.py")):
        regions[path.stem] = path.read_text().rstrip("\n")
    return regions


@pytest.mark.parametrize("name", sorted(bilevel_regions()))
def test_a_collapsed_bilevel_region_comes_back_exactly(name):
    region = bilevel_regions()[name]
    flat = collapse(region)
    assert flat != region
    recovery = recover_indentation(flat)
    assert recovery.text == region
    assert "the only layout under which it compiles with every statement reachable" in recovery.note


def test_a_layout_that_could_close_a_block_or_not_is_left_alone_and_says_where():
    flat = "def total(xs):\n s = 0\n for x in xs:\n y = x * 2\n s += y\n return s"
    recovery = recover_indentation(flat)
    assert recovery.text == flat
    assert "more than one layout compiles with every statement reachable (line(s) 5 of the edit" in recovery.note
    assert "kept as the transcript has it" in recovery.note


def test_text_with_its_indentation_or_that_compiles_as_it_is_is_untouched():
    for text in ("def f():\n    if x:\n        return 1\n", "def f():\n return 1\n", "X = 1\nY = 2\n"):
        recovery = recover_indentation(text)
        assert (recovery.text, recovery.note) == (text, "")


def test_a_multi_line_string_that_lost_its_inner_indentation_is_not_guessed():
    flat = 'def f():\n """Doc.\n\n more\n """\n if x:\n return 1'
    recovery = recover_indentation(flat)
    assert recovery.text == flat and "a multi-line string lost its inner indentation" in recovery.note


def test_continuation_lines_and_comments_follow_their_statement():
    flat = "def f(net):\n # pick one\n if net:\n return dict(\n a=[\n 1,\n ],\n )\n return None"
    assert recover_indentation(flat).text == (
        "def f(net):\n    # pick one\n    if net:\n        return dict(\n            a=[\n"
        "                1,\n            ],\n        )\n    return None")


def test_the_bilevel_seed_transcripts_edits_are_re_indented_and_its_agent_can_be_rescored():
    replay = seed("002").replay
    edits = [s for s in replay.steps if isinstance(s, EditStep)]
    assert len(edits) == 4 and all(e.applied for e in edits)
    for edit in edits:
        assert any("put back from the code's structure" in note for note in edit.notes)
        compile(edit.after.text, "custom_strategy.py", "exec")
        assert "        return HypercleanStrategy(" in edit.after.text


def _transcript_with(tmp_path: Path, content: str) -> Path:
    text = (FIXTURES / "fake_transcript.txt").read_text()
    old = '"content": "SCORE = 80.0\\nCRASH_AT = None\\nNOISE = 0.0\\n"'
    assert old in text
    path = tmp_path / "flat.txt"
    path.write_text(text.replace(old, f'"content": "{content}"'))
    return path


def test_rescore_takes_a_recovered_region_and_says_why_it_cannot_take_an_open_one(fake_task, catalog, tmp_path):
    certain = _transcript_with(tmp_path, "SCORE = 80.0\\nCRASH_AT = None\\nfor i in range(1):\\n if i == 0:\\n NOISE = 0.0\\n")
    (run,), _ = agent_runs(fake_task, [certain], catalog)
    assert run.candidate is not None
    assert "for i in range(1):\n    if i == 0:\n        NOISE = 0.0\n" in run.candidate.files["fake/fake_driver.py"]

    open_one = _transcript_with(tmp_path, "CRASH_AT = None\\nfor i in range(2):\\n if i:\\n SCORE = 80.0\\n NOISE = 0.0\\n")
    (run,), _ = agent_runs(fake_task, [open_one], catalog)
    assert run.candidate is None
    assert run.why.startswith("fake/fake_driver.py as the source gives it does not compile (expected an indented block")
    assert "more than one layout compiles with every statement reachable (line(s) 5 of the edit" in run.why
