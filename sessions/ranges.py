"""Editable ranges and the line arithmetic of an edit.

Lines are 1-based and ranges inclusive, as the published tasks state them
("lines 32-49"). A range may become empty after an edit that deletes all its
lines; it is then (start, start - 1) and an edit (start, start - 1) inserts.
"""

from __future__ import annotations

from sessions.errors import Refused
from tasks.spec import LineRange


class EditRefused(Refused):
    """An edit that the rules do not allow; the message says why."""


# Every edit is kept in the journal, which is read whole at every start: one edit
# of 50 MB made every later command take seconds. A scaffold is tens of kB.
MAX_EDIT_BYTES = 1024 * 1024


def edit_content(content: str, path: str) -> str:
    """Content as the engine keeps it: LF line endings (CRLF and CR become LF,
    whatever the source), no NUL bytes, at most MAX_EDIT_BYTES."""
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in content:
        line = content[: content.index("\0")].count("\n") + 1
        raise EditRefused(f"the new text for {path} contains a NUL byte (line {line} of the new text); "
                          "source files are plain text: remove it")
    size = len(content.encode("utf-8"))
    if size > MAX_EDIT_BYTES:
        raise EditRefused(
            f"the new text for {path} is {size / 1024:.0f} KiB; one edit may be at most "
            f"{MAX_EDIT_BYTES // 1024} KiB, because every edit is kept in the journal and "
            "re-read at every start. Split it into smaller edits"
        )
    return content


def content_lines(content: str) -> list[str]:
    """Split edit content into lines; one trailing newline adds no line."""
    if content == "":
        return []
    if content.endswith("\n"):
        content = content[:-1]
    return content.split("\n")


def describe(ranges: list[LineRange]) -> str:
    return ", ".join(str(r) for r in ranges) or "none"


def apply_edit(
    lines: list[str], ranges: list[LineRange], start: int, end: int, new: list[str]
) -> tuple[list[str], list[LineRange]]:
    """Replace lines start..end (inclusive) with `new` if they lie in one range.

    Returns the new lines and ranges: the enclosing range's end moves by the
    line delta and every later range shifts by it.
    """
    if start < 1 or end < start - 1:
        raise EditRefused(f"invalid line span {start}-{end}")
    index = next((i for i, r in enumerate(ranges) if r.contains(start, end)), None)
    if index is None:
        raise EditRefused(
            f"lines {start}-{end} are not inside an editable range; "
            f"editable lines: {describe(ranges)}"
        )
    delta = len(new) - (end - start + 1)
    out_lines = lines[: start - 1] + new + lines[end:]
    out_ranges = []
    for i, r in enumerate(ranges):
        if i == index:
            out_ranges.append(LineRange(r.start, r.end + delta))
        elif i > index:
            out_ranges.append(LineRange(r.start + delta, r.end + delta))
        else:
            out_ranges.append(r)
    return out_lines, out_ranges


def fixed_segments(lines: list[str], ranges: list[LineRange]) -> list[list[str]]:
    """The non-editable stretches of a file: before, between and after ranges."""
    segments, cursor = [], 1
    for r in ranges:
        segments.append(lines[cursor - 1 : r.start - 1])
        cursor = r.end + 1
    segments.append(lines[cursor - 1 :])
    return segments


def editable_text(lines: list[str], ranges: list[LineRange]) -> list[list[str]]:
    return [lines[r.start - 1 : r.end] for r in ranges]


def match_ranges(
    fixed: list[list[str]], new_lines: list[str]
) -> list[LineRange] | None:
    """Find ranges that make `new_lines` = fixed[0] + r1 + fixed[1] + ... + fixed[-1].

    Used when a whole file comes back changed (editor save, external editor):
    the change is accepted only if every fixed segment is still there, in
    order. Each middle segment is matched at its earliest position; returns
    None when the text does not keep the fixed lines.
    """
    head, tail = fixed[0], fixed[-1]
    if new_lines[: len(head)] != head:
        return None
    limit = len(new_lines) - len(tail)
    if limit < len(head) or new_lines[limit:] != tail:
        return None
    ranges, cursor = [], len(head)  # cursor: 0-based index after last fixed line
    for segment in fixed[1:-1]:
        found = _find(new_lines, segment, cursor, limit)
        if found is None:
            return None
        ranges.append(LineRange(cursor + 1, found))
        cursor = found + len(segment)
    ranges.append(LineRange(cursor + 1, limit))
    return ranges


def _find(haystack: list[str], needle: list[str], lo: int, hi: int) -> int | None:
    for i in range(lo, hi - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i
    return None


def range_around(ranges: tuple[LineRange, ...], line: int) -> str:
    """The range holding `line` (or all of them, when none does), as an edit's message names it."""
    for r in ranges:
        if r.start <= line <= max(r.end, r.start):
            return str(r)
    return describe(list(ranges))
