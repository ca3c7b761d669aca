"""Does a saved file compile? Where and why not (pure, no Textual)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class CompileError:
    path: str
    line: int  # 1-based file line
    column: int  # 1-based; 0 when Python names no column
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{self.path}, {where}: {self.message}"


def compile_error(path: str, text: str) -> CompileError | None:
    """The first error that keeps `text` from compiling, or None (non-Python files pass)."""
    if not path.endswith(".py"):
        return None
    try:
        with warnings.catch_warnings():  # e.g. invalid escape sequences: a warning, not an error
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:  # IndentationError and TabError included
        return CompileError(path, exc.lineno or 1, exc.offset or 0, exc.msg)
    except ValueError as exc:  # a NUL byte in the source
        return CompileError(path, 1, 0, str(exc))
    return None
