"""What an agent's prompt and tool replies tell about a file it edits: its editable
range, its whole listing, its length. Used to rebuild a file the local catalog lacks.
"""

from __future__ import annotations

import re

from tasks.spec import LineRange

REPLACED = re.compile(r"Replaced lines (\d+)\s*\.\.\s*(\d+) with (\d+) line")
RANGE_AFTER = re.compile(r"Editable range:\s*(\d+)\s*[–-]\s*(\d+)")
TOTAL = re.compile(r"total:\s*(\d+) lines")
EDITABLE_HEADER = re.compile(r"(\S+)\s*\[EDITABLE\s*[—–-]+\s*lines?\s*(\d+)\s*[–-]\s*(\d+)")
LISTING_LINE = re.compile(r"^\s*(\d+): ?(.*)$")


def norm_name(name: str) -> str:
    return name.strip().strip("/").replace("\\", "/")


def ranges_from_prompt(prompt: str, path: str, filename: str) -> tuple[LineRange, ...] | None:
    for m in EDITABLE_HEADER.finditer(prompt):
        name = norm_name(m.group(1))
        if name in (path, norm_name(filename)) or name.rsplit("/", 1)[-1] == path.rsplit("/", 1)[-1]:
            return (LineRange(int(m.group(2)), int(m.group(3))),)
    return None


def ranges_from_result(result: str | None) -> tuple[LineRange, ...] | None:
    """The range before the first edit, from that edit's reply (range after minus the delta)."""
    rep, after = REPLACED.search(result or ""), RANGE_AFTER.search(result or "")
    if not rep or not after:
        return None
    delta = int(rep.group(3)) - (int(rep.group(2)) - int(rep.group(1)) + 1)
    start, end = int(after.group(1)), int(after.group(2)) - delta
    return (LineRange(start, end),) if end >= start else None


def prompt_listing(prompt: str, path: str, filename: str, result: str | None) -> str | None:
    """The file as the prompt lists it ("  1: ..."), if the listing is whole."""
    for m in EDITABLE_HEADER.finditer(prompt):
        name = norm_name(m.group(1))
        if name not in (path, norm_name(filename)) and name.rsplit("/", 1)[-1] != path.rsplit("/", 1)[-1]:
            continue
        lines, expect = [], 1
        for line in prompt[m.end():].split("\n")[1:]:
            lm = LISTING_LINE.match(line)
            if lm is None or int(lm.group(1)) != expect:
                if lines:
                    break
                continue
            lines.append(lm.group(2))
            expect += 1
        total = total_before(result)
        if lines and total is not None and total == len(lines):
            return "\n".join(lines) + "\n"
    return None


def total_before(result: str | None) -> int | None:
    rep, total = REPLACED.search(result or ""), TOTAL.search(result or "")
    if not rep or not total:
        return None
    return int(total.group(1)) - int(rep.group(3)) + (int(rep.group(2)) - int(rep.group(1)) + 1)
