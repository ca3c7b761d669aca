"""Python syntax highlighting for the editor, with Pygments (no Textual, no tree-sitter).

Textual's TextArea highlights through tree-sitter, which is an optional extra;
Pygments comes with Rich, so it is always there. The result has TextArea's
shape: row -> [(start_byte, end_byte | None, highlight name)], the names being
those TextArea themes style ("keyword", "string", "comment", ...).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    _TokenType,
)

Highlights = dict[int, list[tuple[int, int | None, str]]]

# Most specific first: the first entry a token type is a subtype of wins.
_NAMES: list[tuple[_TokenType, str]] = [
    (Keyword.Namespace, "include"),
    (Keyword.Constant, "constant.builtin"),
    (Keyword, "keyword"),
    (Name.Builtin.Pseudo, "variable.builtin"),
    (Name.Builtin, "function.call"),
    (Name.Function, "function"),
    (Name.Class, "type.class"),
    (Name.Decorator, "function"),
    (Name.Exception, "exception"),
    (String.Doc, "string.documentation"),
    (String, "string"),
    (Number, "number"),
    (Comment, "comment"),
    (Operator.Word, "keyword.operator"),
    (Operator, "operator"),
    (Punctuation, "punctuation.bracket"),
]
_CACHE: dict[_TokenType, str | None] = {}


def highlight_name(token: _TokenType) -> str | None:
    try:
        return _CACHE[token]
    except KeyError:
        name = next((n for t, n in _NAMES if token in t), None)
        _CACHE[token] = name
        return name


def lexer_for(path: str) -> Lexer:
    return PythonLexer() if path.endswith(".py") else TextLexer()


def highlight(text: str, lexer: Lexer, first_row: int = 0) -> Highlights:
    """Highlights for `text`, whose first line is row `first_row`."""
    out: Highlights = defaultdict(list)
    row, col = first_row, 0  # col in UTF-8 bytes, as TextArea expects
    for _, token, value in lexer.get_tokens_unprocessed(text):
        name = highlight_name(token)
        pieces = value.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                row, col = row + 1, 0
            width = len(piece.encode("utf-8"))
            if name is not None and width:
                out[row].append((col, col + width, name))
            col += width
    return out


def highlight_lines(lines: Iterable[str], lexer: Lexer, first_row: int) -> Highlights:
    """A quick, context-free highlight of a few lines (until the full pass runs)."""
    return highlight("\n".join(lines), lexer, first_row)
