"""Printing replays, the region diff, comparing two replays, format detection."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.replay import (
    ReplayError,
    compare,
    detect_format,
    format_compare,
    format_replay,
    load_replay,
)
from sessions.replay.model import region_diff
from sessions.state import FileState
from tasks.spec import LineRange
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_patch(lines: list[str], diff: list[str]) -> list[str]:
    """Apply a unified diff (as region_diff writes it) to lines; checks every context line."""
    out, cursor, i = [], 0, 2
    while i < len(diff):
        m = HUNK.match(diff[i])
        assert m, diff[i]
        start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
        begin = start - 1 if count else start  # an empty side names the line before
        out.extend(lines[cursor:begin])
        cursor = begin
        i += 1
        while i < len(diff) and not diff[i].startswith("@@"):
            tag, text = diff[i][0], diff[i][1:]
            if tag in " -":
                assert lines[cursor] == text
                cursor += 1
            if tag in " +":
                out.append(text)
            i += 1
    return out + lines[cursor:]


words = st.sampled_from(["a", "b", "c", "x = 1", "", "return y", "pass"])


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(words, min_size=1, max_size=30),
    data=st.data(),
)
def test_region_diff_patches_before_into_after(before, data):
    n = len(before)
    lo = data.draw(st.integers(1, n))
    hi = data.draw(st.integers(lo, n))
    state = FileState(tuple(before), (LineRange(lo, hi),))
    start = data.draw(st.integers(lo, hi + 1))
    end = data.draw(st.integers(start - 1, hi))
    new = data.draw(st.lists(words, max_size=12))
    content = "\n".join(new) + ("\n" if new else "")
    after = state.edited(start, end, content)
    diff = region_diff(state, after, start, end, len(new), "f.py")
    if state.lines == after.lines:
        assert diff == []
    else:
        assert diff[:2] == ["--- a/f.py", "+++ b/f.py"]
        assert apply_patch(list(state.lines), diff) == list(after.lines)


def test_printed_replay_has_one_block_per_step_and_the_final_table(catalog):
    replay = load_replay(FIXTURES / "fake_clean.json", catalog).replay
    lines = list(format_replay(replay))
    heads = [line for line in lines if re.match(r"^#\d+ ", line)]
    assert len(heads) == len(replay.steps)
    assert heads[2].startswith("#3   2026-01-05 10:01:00  ✎ edit    fake/fake_driver.py lines 14-14 -> 2 line(s)")
    assert "[source step 1]" in heads[2]
    text = "\n".join(lines)
    assert "    -SCORE = 50.0\n    +SCORE = 60.0\n    +EXTRA = 1" in text
    assert "    alpha: done  test_acc_alpha=60.00" in text
    assert "    gamma (hidden): done  test_acc_gamma=82.00" in text
    assert lines[-4:] == [
        "Final results (submitted test #2):",
        "    test_acc_alpha  80.00",
        "    test_acc_beta   81.00",
        "    test_acc_gamma  82.00",
    ]


def test_printed_messy_replay_names_runs_and_what_was_skipped(catalog):
    result = load_replay(FIXTURES / "fake_messy.json", catalog)
    text = "\n".join(format_replay(result.replay))
    assert "16 steps in 3 runs" in text
    assert text.count("── run ") == 3
    assert "Skipped or incomplete (3):" in text and "message 17: not an object (str); left out" in text
    assert "(replaced lines not known)" in text and "note: cannot be re-applied" in text


def test_compare_aligns_tests_and_final_tables(catalog, fake_task):
    a = load_replay(FIXTURES / "fake_clean.json", catalog).replay
    b = load_replay(FIXTURES / "fake_messy.json", catalog).replay.split_runs()[1]
    cmp = compare(a, b, fake_task.metric_directions())
    pairs = [(r.a.kind if r.a else None, r.b.kind if r.b else None) for r in cmp.rows]
    assert ("test", "test") in pairs and ("submit", "submit") in pairs
    test_row = next(r for r in cmp.rows if r.a is not None and r.a.kind == "test" and r.b is not None)
    assert test_row.a.n == test_row.b.n == 1
    assert [(m.metric, m.a, m.b, m.better) for m in cmp.final] == [
        ("test_acc_alpha", "80.00", "90.00", "b"),
        ("test_acc_beta", "81.00", "91.00", "b"),
        ("test_acc_gamma", "82.00", "92.00", "b"),
    ]
    lines = list(format_compare(cmp))
    assert lines[0].startswith("A: test-model") and "better" in lines[-4]


def test_compare_with_itself_pairs_every_step(catalog):
    a = load_replay(FIXTURES / "fake_clean.json", catalog).replay
    cmp = compare(a, a, include_text=True)
    assert all(r.a is r.b for r in cmp.rows) and len(cmp.rows) == len(a.steps)
    assert all(m.better is None for m in cmp.final)  # no directions given


def test_compare_replays_of_different_lengths(catalog):
    a = load_replay(FIXTURES / "fake_clean.json", catalog).replay
    b = load_replay(FIXTURES / "fake_truncated.json", catalog).replay
    cmp = compare(a, b)
    assert sum(1 for r in cmp.rows if r.b is not None) == len([s for s in b.steps if s.kind != "text"])
    assert sum(1 for r in cmp.rows if r.a is not None) == len([s for s in a.steps if s.kind != "text"])
    assert [(m.a is not None, m.b) for m in cmp.final] == [(True, None)] * 3


def test_detect_format(tmp_path):
    assert detect_format(FIXTURES / "fake_clean.json") == "agent-json"
    assert detect_format(FIXTURES / "fake_transcript.txt") == "agent-text"
    journal = tmp_path / "s" / "journal.jsonl"
    journal.parent.mkdir()
    journal.write_text('{"data": {}, "prev": "0", "seq": 0, "time": "t", "type": "note"}\n')
    assert detect_format(journal.parent) == "session" and detect_format(journal) == "session"
    renamed = tmp_path / "copy.log"
    renamed.write_bytes(journal.read_bytes())
    assert detect_format(renamed) == "session"
    with pytest.raises(ReplayError, match="no such file"):
        load_replay(tmp_path / "missing.json")
    with pytest.raises(ReplayError, match="not a session directory"):
        load_replay(tmp_path)


def test_benchmark_script_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "replay_print.py"), "--steps", "300", "--no-cli"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "edits re-applied to the scaffold" in proc.stdout and "total:" in proc.stdout


def test_files_at_each_step(catalog, fake_task):
    replay = load_replay(FIXTURES / "fake_clean.json", catalog).replay
    f = fake_task.file("fake/fake_driver.py")
    scaffold = FileState.from_text(f.source.read_text(encoding="utf-8"), f.editable)
    edit1 = next(s for s in replay.steps if s.kind == "edit")
    undo = next(s for s in replay.steps if s.kind == "undo")
    assert replay.files_at(0) == {"fake/fake_driver.py": scaffold}
    assert replay.files_at(edit1.index - 1)["fake/fake_driver.py"] == scaffold
    assert replay.files_at(edit1.index)["fake/fake_driver.py"] == edit1.after
    assert replay.files_at(undo.index)["fake/fake_driver.py"] == scaffold
    assert replay.files_at(10_000) == replay.files_at(len(replay.steps))
    messy = load_replay(FIXTURES / "fake_messy.json", catalog).replay
    run3 = [s for s in messy.steps if s.run == 3 and s.kind == "edit"]
    assert messy.files_at(run3[0].index)["fake/fake_driver.py"] is None  # not re-applied: unknown
    assert messy.files_at(run3[-1].index)["fake/fake_driver.py"] == run3[-1].after
