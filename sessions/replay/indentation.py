"""Python indentation that a flattened text transcript lost, put back where it is certain.

Some published text transcripts collapse every run of whitespace to one space,
so each indented line of an edit keeps a single leading space and the depth is
gone. Python's structure gives much of it back: a line after a block opener
(`...:`) goes one level deeper, a line at column 0 is at the top, and a
line inside brackets continues its statement (its indentation means nothing).
What is left open is how far a line dedents. A layout is taken only when it is
the single one under which the code compiles with every statement reachable
(nothing after a `return`, `raise`, `continue` or `break` of the same block);
otherwise the text stays as the transcript has it, and the note says why.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

INDENTATION_LOST = "the transcript lost this edit's indentation"
STEP = "    "
TERMINAL = ("return", "raise", "continue", "break")
CLOSERS = ")]}"
MAX_LAYOUTS = 20_000  # layouts tried before giving up (each is compiled)


@dataclass(frozen=True)
class Recovery:
    text: str  # the edit's text: recovered, or as the transcript has it
    note: str  # what was done and why ("" when the text needed nothing)


@dataclass
class _Statement:
    row: int  # 0-based physical line where it starts
    at_top: bool  # it starts at column 0 in the transcript
    opens_block: bool  # it ends with ':' (a compound statement's header)
    terminal: bool  # return/raise/continue/break: what follows in its block cannot run


def recover_indentation(text: str) -> Recovery:
    """The edit's Python text with its lost indentation put back, where that is certain."""
    lines = text.split("\n")
    if not _collapsed(lines) or _compiles(text):
        return Recovery(text, "")
    lost = f"{INDENTATION_LOST} (each indented line kept one space)"
    try:
        statements, depth_in_brackets, string_rows = _structure(text)
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        return Recovery(text, f"{lost}, and its text cannot be read as Python ({exc}), "
                              "so it is kept as the transcript has it")
    if any(lines[row].startswith(" ") for row in string_rows):
        return Recovery(text, f"{lost}, and a multi-line string lost its inner indentation, which "
                              "nothing can tell back; it is kept as the transcript has it")
    layouts, tried = _layouts(statements, lambda depths: _compiles(
        _render(lines, statements, depths, depth_in_brackets, string_rows)))
    if len(layouts) == 1:
        return Recovery(_render(lines, statements, layouts[0], depth_in_brackets, string_rows),
                        f"{lost}; it was put back from the code's structure: the only layout under "
                        "which it compiles with every statement reachable")
    if not layouts:
        why = ("no layout compiles with every statement reachable" if tried < MAX_LAYOUTS
               else f"over {MAX_LAYOUTS} layouts are possible")
    else:
        rows = _ambiguous_rows(layouts, statements)
        why = (f"more than one layout compiles with every statement reachable (line(s) "
               f"{', '.join(str(r + 1) for r in rows)} of the edit could close a block or not)")
    return Recovery(text, f"{lost}, and {why}, so it is kept as the transcript has it")


def _collapsed(lines: list[str]) -> bool:
    """Every line starts at column 0 or 1, and some at 1: what whitespace collapsing leaves."""
    indents = {len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()}
    return 1 in indents and indents <= {0, 1} and not any(line.startswith("\t") for line in lines)


def _compiles(text: str) -> bool:
    try:
        compile(text, "<edit>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _structure(text: str) -> tuple[list[_Statement], dict[int, int], set[int]]:
    """The logical lines (statements), each physical line's bracket depth at its start,
    and the rows that lie inside a multi-line string (after its first line)."""
    statements: list[_Statement] = []
    depth_in_brackets: dict[int, int] = {}
    string_rows: set[int] = set()
    depth, first, last = 0, None, None
    skip = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        row = tok.start[0] - 1
        depth_in_brackets.setdefault(row, depth)
        if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            string_rows.update(range(tok.start[0], tok.end[0]))
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in CLOSERS:
            depth -= 1
        if tok.type == tokenize.NEWLINE and first is not None:
            line = text.split("\n")[first.start[0] - 1]
            statements.append(_Statement(
                first.start[0] - 1, not line.startswith(" "),
                last.type == tokenize.OP and last.string == ":",
                first.type == tokenize.NAME and first.string in TERMINAL))
            first = last = None
        elif tok.type not in skip:
            first = first or tok
            last = tok
    return statements, depth_in_brackets, string_rows


def _layouts(statements: list[_Statement], compiles) -> tuple[list[list[int]], int]:
    """Every depth per statement that fits the transcript and compiles with every statement
    reachable (at most two are collected: one is the answer, two mean it is open)."""
    found: list[list[int]] = []
    tried = 0

    def walk(i: int, depths: list[int], open_levels: list[int]) -> None:
        nonlocal tried
        if len(found) > 1 or tried >= MAX_LAYOUTS:
            return
        if i == len(statements):
            tried += 1
            if compiles(depths):
                found.append(list(depths))
            return
        s, before = statements[i], statements[i - 1] if i else None
        if before is not None and before.opens_block:
            choices = [] if s.at_top else [depths[-1] + 1]
        elif s.at_top:
            choices = [0]
        else:
            choices = [d for d in open_levels if d >= 1]
        for d in choices:
            if before is not None and before.terminal and d >= depths[-1]:
                continue  # it could never run
            levels = [lv for lv in open_levels if lv <= d]
            walk(i + 1, depths + [d], levels if d in levels else levels + [d])

    walk(0, [], [0])
    return found, tried


def _render(lines: list[str], statements: list[_Statement], depths: list[int],
            depth_in_brackets: dict[int, int], string_rows: set[int]) -> str:
    """The text with each statement at its depth and its continuation lines under it."""
    starts = {s.row: d for s, d in zip(statements, depths)}
    out, depth = [], 0
    for row, line in enumerate(lines):
        body = line.strip(" ")
        depth = starts.get(row, depth)
        if row in string_rows or not body:
            out.append(line if body else "")
            continue
        nested = depth_in_brackets.get(row, 0) - (1 if body[0] in CLOSERS else 0)
        level = depth
        if row not in starts and body.startswith("#") and nested <= 0:  # a comment line: as the code after it
            level = next((starts[r] for r in sorted(starts) if r > row), depth)
        out.append(STEP * (level + max(nested, 0)) + body)
    return "\n".join(out)


def _ambiguous_rows(layouts: list[list[int]], statements: list[_Statement]) -> list[int]:
    return [s.row for s, a, b in zip(statements, layouts[0], layouts[1]) if a != b]
