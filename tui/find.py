"""Searching the editor's lines, and reading a go-to-line request (pure, no Textual)."""

from __future__ import annotations

import re
from typing import Sequence

Location = tuple[int, int]  # (row, column), 0-based
LINE_REQUEST = re.compile(r"\s*:\s*(\d+)\s*")


def find_all(lines: Sequence[str], query: str) -> list[Location]:
    """Where `query` starts on each line, top to bottom. Smart case: a query with a
    capital letter matches case exactly, else case is ignored."""
    if not query:
        return []
    fold = query == query.lower()
    needle = query.lower() if fold else query
    found = []
    for row, line in enumerate(lines):
        haystack = line.lower() if fold else line
        column = haystack.find(needle)
        while column != -1:
            found.append((row, column))
            column = haystack.find(needle, column + 1)
    return found


def pick(matches: Sequence[Location], origin: Location, *, forward: bool = True, inclusive: bool = False) -> int | None:
    """The index of the match after (or before) `origin`, wrapping around the file."""
    if not matches:
        return None
    if forward:
        after = [i for i, m in enumerate(matches) if m > origin or (inclusive and m == origin)]
        return after[0] if after else 0
    before = [i for i, m in enumerate(matches) if m < origin or (inclusive and m == origin)]
    return before[-1] if before else len(matches) - 1


def line_request(text: str) -> int | None:
    """`:42` asks for line 42; anything else is a search."""
    found = LINE_REQUEST.fullmatch(text)
    return int(found.group(1)) if found else None


def line_problem(number: int, line_count: int) -> str | None:
    if 1 <= number <= line_count:
        return None
    return f"there is no line {number}: the file has lines 1-{line_count}"
