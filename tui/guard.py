"""Which edits of an editor buffer keep to the editable lines (pure, no Textual).

An editor edit replaces the text between two (row, column) locations. At the
line level it replaces some whole lines by others; the edit is allowed when
that span lies inside one editable range, exactly as `Session.edit` would
allow it, and the ranges then move as the engine moves them.

Rows are 0-based editor rows; engine lines and ranges are 1-based. A buffer
whose text ends with a newline has one extra empty row at the end (the
"line" after the last newline), which is no line of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sessions.ranges import apply_edit, describe, fixed_segments, match_ranges
from tasks.spec import LineRange

Location = tuple[int, int]


@dataclass(frozen=True)
class Verdict:
    ranges: tuple[LineRange, ...] | None  # the ranges after the edit; None: refused
    message: str = ""  # why it was refused

    @property
    def allowed(self) -> bool:
        return self.ranges is not None


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        n += 1
    return n


def _span(old: list[str], new: list[str], prefix_first: bool) -> tuple[int, int, int]:
    """(lines kept before, lines kept after, lines inserted) for old -> new."""
    if prefix_first:
        p = _common_prefix(old, new)
        s = _common_suffix(old[p:], new[p:])
    else:
        s = _common_suffix(old, new)
        p = _common_prefix(old[: len(old) - s], new[: len(new) - s])
    return p, s, len(new) - p - s


def _containing(ranges: Sequence[LineRange], start: int, end: int) -> int | None:
    return next((i for i, r in enumerate(ranges) if r.contains(start, end)), None)


def check_edit(
    lines: Sequence[str],
    ranges: Sequence[LineRange],
    top: Location,
    bottom: Location,
    text: str,
) -> Verdict:
    """May the buffer `lines` have top..bottom replaced by `text`?"""
    (r1, c1), (r2, c2) = sorted((tuple(top), tuple(bottom)))
    r2 = min(r2, len(lines) - 1)
    old = list(lines[r1 : r2 + 1])
    new = (old[0][:c1] + text.replace("\r\n", "\n") + old[-1][c2:]).split("\n")
    if old == new:
        return Verdict(tuple(ranges))
    first_bad: tuple[int, int, int] | None = None
    for prefix_first in (True, False):
        p, s, inserted = _span(old, new, prefix_first)
        start = r1 + p + 1  # 1-based first replaced line
        end = r2 - s + 1  # 1-based last replaced line (start - 1: a pure insert)
        if _containing(ranges, start, end) is not None:
            _, moved = apply_edit([], list(ranges), start, end, [""] * inserted)
            return Verdict(tuple(moved))
        first_bad = first_bad or (start, end, inserted)
    assert first_bad is not None
    return Verdict(None, refusal(ranges, *first_bad))


def refusal(ranges: Sequence[LineRange], start: int, end: int, inserted: int) -> str:
    editable = {n for r in ranges for n in range(r.start, r.end + 1)}
    where = describe(list(ranges))
    if end < start:
        return f"line {start} is fixed: no lines may be added there (editable lines: {where})"
    locked = [n for n in range(start, end + 1) if n not in editable]
    if not locked:  # inside ranges, but across two of them
        return f"lines {start}-{end} span two editable ranges (editable lines: {where})"
    n = locked[0]
    what = f"line {n} is fixed" if len(locked) == 1 else f"lines {locked[0]}-{locked[-1]} are fixed"
    return f"{what} and may not change (editable lines: {where})"


def file_lines(text: str) -> list[str]:
    """A buffer's text as the engine's lines (no empty line after the last newline)."""
    body = text[:-1] if text.endswith("\n") else text
    return body.split("\n") if body else []


class RangeTracker:
    """The fixed segments of one file (constant for a session) and its live ranges."""

    def __init__(self, lines: Sequence[str], ranges: Sequence[LineRange]):
        self.fixed = fixed_segments(list(lines), list(ranges))
        self.ranges: tuple[LineRange, ...] = tuple(ranges)

    def ranges_for(self, text: str) -> tuple[LineRange, ...] | None:
        """Ranges that make `text` keep every fixed line, or None."""
        found = match_ranges(self.fixed, file_lines(text))
        return None if found is None else tuple(found)

    def editable_rows(self) -> set[int]:
        return {n - 1 for r in self.ranges for n in range(r.start, r.end + 1)}

    def is_editable_row(self, row: int) -> bool:
        return any(r.start - 1 <= row <= r.end - 1 for r in self.ranges)
