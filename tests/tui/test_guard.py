"""The line-level edit check behind the editor (no Textual)."""

from tasks.spec import LineRange
from tui.guard import RangeTracker, check_edit, file_lines

TEXT = "a\nb\n# start\nx = 1\ny = 2\n# end\nz\n"
LINES = TEXT.split("\n")  # editor rows; the last one is the empty row after the final newline
RANGES = (LineRange(4, 5),)  # "x = 1", "y = 2"


def test_typing_inside_the_range_is_allowed_and_keeps_the_range():
    v = check_edit(LINES, RANGES, (3, 5), (3, 5), "0")
    assert v.allowed and v.ranges == RANGES


def test_enter_at_the_end_of_the_last_editable_line_grows_the_range():
    v = check_edit(LINES, RANGES, (4, 5), (4, 5), "\n")
    assert v.ranges == (LineRange(4, 6),)


def test_enter_at_column_0_of_the_first_editable_line_grows_the_range():
    v = check_edit(LINES, RANGES, (3, 0), (3, 0), "\n")
    assert v.ranges == (LineRange(4, 6),)


def test_deleting_a_whole_editable_line_shrinks_the_range():
    v = check_edit(LINES, RANGES, (3, 0), (4, 0), "")
    assert v.ranges == (LineRange(4, 4),)


def test_typing_on_a_fixed_line_is_refused_with_its_number():
    v = check_edit(LINES, RANGES, (2, 0), (2, 0), "z")
    assert not v.allowed and "line 3 is fixed" in v.message and "4-5" in v.message


def test_backspace_joining_the_first_editable_line_to_a_fixed_one_is_refused():
    v = check_edit(LINES, RANGES, (2, 7), (3, 0), "")
    assert not v.allowed


def test_delete_joining_the_last_editable_line_with_the_next_fixed_one_is_refused():
    v = check_edit(LINES, RANGES, (4, 5), (5, 0), "")
    assert not v.allowed


def test_a_selection_reaching_into_fixed_lines_is_refused():
    v = check_edit(LINES, RANGES, (3, 0), (6, 1), "q")
    assert not v.allowed and "fixed" in v.message


def test_adding_lines_at_the_end_of_a_fixed_line_far_from_the_range_is_refused():
    v = check_edit(LINES, RANGES, (0, 1), (0, 1), "\nnew")
    assert not v.allowed and "no lines may be added" in v.message


def test_an_emptied_range_can_be_refilled():
    emptied = (LineRange(4, 3),)
    lines = "a\nb\n# start\n# end\nz\n".split("\n")
    # Enter at the end of "# start" inserts a line at line 4: inside the empty range.
    v = check_edit(lines, emptied, (2, 7), (2, 7), "\n")
    assert v.ranges == (LineRange(4, 4),)


def test_later_ranges_shift_by_the_line_delta():
    ranges = (LineRange(2, 2), LineRange(4, 4))
    lines = "f\ne1\nf\ne2\nf\n".split("\n")
    v = check_edit(lines, ranges, (1, 2), (1, 2), "\nmore")
    assert v.ranges == (LineRange(2, 3), LineRange(5, 5))


def test_the_tracker_recovers_ranges_from_a_whole_text():
    tracker = RangeTracker(file_lines(TEXT), RANGES)
    assert tracker.ranges_for(TEXT.replace("y = 2", "y = 2\ny2 = 3")) == (LineRange(4, 6),)
    assert tracker.ranges_for(TEXT.replace("# end", "# END")) is None
