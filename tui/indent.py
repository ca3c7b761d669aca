"""Indentation rules of the editor, on plain lines (pure, no Textual).

Python conventions: a new line keeps the indentation of the line above, one
level more after a line that opens a block (ends in `:`) or an unclosed
bracket, one level less after a statement that ends a block (`return`,
`pass`, `raise`, `continue`, `break`). Tab and shift+Tab shift whole lines
by one level; blank lines are left as they are.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Sequence

BLOCK_ENDS = re.compile(r"(return|pass|raise|continue|break)\b")
OPENERS = ("(", "[", "{")


def leading_spaces(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _last_code_char(line: str) -> str:
    """The last character of `line` that is code (a trailing comment is not)."""
    last = ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER,
                              tokenize.INDENT, tokenize.DEDENT):
                continue
            last = token.string[-1:]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # An unclosed bracket or string ends the line: what was read so far is the code.
        pass
    return last


def next_line_indent(line: str, width: int) -> int:
    """Columns of indentation for the line that Enter opens after `line`."""
    indent = leading_spaces(line)
    code = line.strip()
    if not code:
        return indent
    if _last_code_char(line) in (":", *OPENERS):
        return indent + width
    if BLOCK_ENDS.match(code):
        return max(indent - width, 0)
    return indent


def indent_lines(lines: Sequence[str], width: int) -> list[str]:
    """Each non-blank line one level deeper."""
    pad = " " * width
    return [pad + line if line.strip() else line for line in lines]


def dedent_lines(lines: Sequence[str], width: int) -> list[str]:
    """Each line one level shallower (at most `width` leading spaces removed)."""
    return [line[min(leading_spaces(line), width):] for line in lines]
