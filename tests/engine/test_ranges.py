"""Range arithmetic through sequences of edits and undos (property-based)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.ranges import EditRefused, apply_edit, content_lines, fixed_segments, match_ranges
from sessions.state import FileState
from tasks.spec import LineRange

import pytest


def test_seed_example_replacing_18_lines_with_17():
    lines = [f"l{i}" for i in range(1, 430)]
    out, ranges = apply_edit(lines, [LineRange(32, 49)], 32, 49, ["x"] * 17)
    assert ranges == [LineRange(32, 48)]
    assert len(out) == 428
    assert out[30] == "l31" and out[48] == "l50"


def test_edit_outside_range_is_refused_with_the_editable_lines():
    with pytest.raises(EditRefused, match="editable lines: 32-49"):
        apply_edit(["a"] * 60, [LineRange(32, 49)], 30, 33, ["x"])


def test_later_ranges_shift_and_earlier_stay():
    ranges = [LineRange(2, 3), LineRange(6, 7), LineRange(10, 10)]
    out, new = apply_edit([str(i) for i in range(1, 12)], ranges, 6, 7, ["a", "b", "c", "d"])
    assert new == [LineRange(2, 3), LineRange(6, 9), LineRange(12, 12)]
    assert out[11] == "10"


def test_region_can_be_emptied_and_refilled():
    state = FileState.from_text("a\nb\nc\n", (LineRange(2, 2),))
    empty = state.edited(2, 2, "")
    assert empty.ranges == (LineRange(2, 1),) and empty.text == "a\nc\n"
    refilled = empty.edited(2, 1, "x\ny")
    assert refilled.ranges == (LineRange(2, 3),) and refilled.text == "a\nx\ny\nc\n"


def test_content_lines_ignores_one_trailing_newline():
    assert content_lines("a\nb\n") == ["a", "b"]
    assert content_lines("a\n\n") == ["a", ""]
    assert content_lines("") == []


# A file whose fixed lines are tagged F<n>: after any sequence of edits,
# the fixed lines survive in order, and the ranges cover exactly the rest.
BASE_RANGES = (LineRange(3, 5), LineRange(9, 9), LineRange(12, 14))


def base_file() -> FileState:
    editable = {n for r in BASE_RANGES for n in range(r.start, r.end + 1)}
    lines = [f"E{n}" if n in editable else f"F{n}" for n in range(1, 17)]
    return FileState.from_text("\n".join(lines) + "\n", BASE_RANGES)


@st.composite
def edit_ops(draw, state: FileState):
    r = draw(st.sampled_from(state.ranges))
    start = draw(st.integers(r.start, r.end + 1))
    end = draw(st.integers(start - 1, r.end))
    n_new = draw(st.integers(0, 4))
    return start, end, "\n".join(f"N{draw(st.integers(0, 99))}" for _ in range(n_new))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_edits_and_undos_keep_fixed_lines_and_ranges_consistent(data):
    state = base_file()
    fixed = fixed_segments(list(state.lines), list(state.ranges))
    history = [state]
    for _ in range(data.draw(st.integers(1, 12))):
        if len(history) > 1 and data.draw(st.booleans()):
            history.pop()  # undo restores exactly the state before the edit
            state = history[-1]
        else:
            start, end, content = data.draw(edit_ops(state))
            state = state.edited(start, end, content)
            history.append(state)
        assert fixed_segments(list(state.lines), list(state.ranges)) == fixed
        assert [line for line in state.lines if line.startswith("F")] == [
            line for seg in fixed for line in seg
        ]
        for r in state.ranges:
            assert all(not line.startswith("F") for line in state.lines[r.start - 1 : r.end])
        # A whole-file save of this text maps back to the same ranges.
        assert match_ranges(fixed, list(state.lines)) == list(state.ranges)


def test_match_ranges_refuses_a_changed_fixed_line():
    state = base_file()
    fixed = fixed_segments(list(state.lines), list(state.ranges))
    changed = list(state.lines)
    changed[0] = "F1 changed"
    assert match_ranges(fixed, changed) is None
    assert match_ranges(fixed, changed[:-1]) is None
