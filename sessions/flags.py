"""Integrity flags: editable code that could fake a result or reach outside the rules.

The editable region runs in the driver's process, so nothing stops it from
printing a metrics line itself or writing into the run folder. This static
check (on the syntax tree, so comments and docstrings about it are not
flagged) makes such code visible: flags are journaled when an edit is saved
and when a test is submitted, shown to the person with the line, exported,
and shown beside archived results. A flag is not a verdict; re-scoring the
submission on another machine is what settles a result.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from sessions.ranges import fixed_segments, match_ranges
from sessions.state import FileState
from tasks.spec import LineRange

if TYPE_CHECKING:
    from sessions.engine import Session

METRICS_WORD = re.compile(r"\w*METRICS\w*|TRAIN_PLAN")  # the words parse_line looks for
WATCHED_MODULES = {"os", "subprocess", "socket", "ctypes"}
FILE_CALLS = {"open", "write_text", "write_bytes"}
STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__"}
ENVIRONMENT = {"environ", "environb", "getenv", "putenv", "unsetenv"}


@dataclass(frozen=True)
class Flag:
    file: str
    line: int
    kind: str  # metrics-text | file-access | std-stream | import | environment
    reason: str
    code: str  # the flagged line, stripped

    def describe(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}: {self.code}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Flag:
        return cls(data["file"], int(data["line"]), data["kind"], data["reason"], data["code"])


def _dotted(node: ast.AST) -> str:
    """`sys.stdout.write` for an attribute chain on a name; '' for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _node_flags(node: ast.AST) -> list[tuple[str, str]]:
    """(kind, reason) for one node of the syntax tree."""
    found = []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        word = METRICS_WORD.search(node.value)
        if word:
            found.append(("metrics-text", f"text containing {word.group(0)} (the drivers' metrics protocol)"))
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        for name in names:
            if name.split(".")[0] in WATCHED_MODULES:
                found.append(("import", f"imports {name}"))
        if isinstance(node, ast.ImportFrom) and node.module == "sys":
            for alias in node.names:
                if alias.name in STREAMS:
                    found.append(("std-stream", f"imports sys.{alias.name}"))
    elif isinstance(node, ast.Call):
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1] if name else getattr(node.func, "attr", "")
        if last in FILE_CALLS:
            found.append(("file-access", f"opens or writes a file ({last})"))
        if name in ("__import__", "importlib.import_module") and node.args:
            target = node.args[0]
            if isinstance(target, ast.Constant) and str(target.value).split(".")[0] in WATCHED_MODULES:
                found.append(("import", f"imports {target.value}"))
    elif isinstance(node, ast.Attribute):
        if node.attr in STREAMS and _dotted(node.value) == "sys":
            found.append(("std-stream", f"touches sys.{node.attr}"))
        if node.attr in ENVIRONMENT:
            found.append(("environment", f"reads or changes environment variables ({node.attr})"))
    return found


def scan_source(path: str, text: str, ranges: Iterable[LineRange]) -> list[Flag]:
    """Flags for the editable lines of one file (a file that does not parse has none:
    the compile check before a test reports it)."""
    editable = {n for r in ranges for n in range(r.start, r.end + 1)}
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError):
        return []
    lines = text.split("\n")
    flags = set()
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or line not in editable:
            continue
        for kind, reason in _node_flags(node):
            flags.add(Flag(path, line, kind, reason, lines[line - 1].strip()))
    return sorted(flags, key=lambda f: (f.file, f.line, f.kind, f.reason))


def snapshot_flags(run_dir: Path, initial: dict[str, FileState]) -> list[Flag]:
    """Flags for a test's snapshot: each editable file's ranges are found again by
    matching the scaffold's fixed lines (the ranges may have moved since the test)."""
    flags = []
    for path, scaffold in sorted(initial.items()):
        if not scaffold.ranges:
            continue
        try:
            text = (run_dir / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # a missing snapshot is refused (engine) or failed (verify) elsewhere
        lines = list(FileState.from_text(text, ()).lines)
        ranges = match_ranges(fixed_segments(list(scaffold.lines), list(scaffold.ranges)), lines)
        flags.extend(scan_source(path, text, ranges or ()))
    return flags


def journaled_flags(entries: Iterable, when: str | None = None) -> dict[str, list[Flag]]:
    """The last journaled flags per file (at edits, or at `when` only)."""
    latest: dict[str, list[Flag]] = {}
    for entry in entries:
        if entry.type == "flags" and (when is None or entry.data["when"] == when):
            for path in entry.data["files"]:
                latest[path] = [Flag.from_dict(d) for d in entry.data["flags"] if d["file"] == path]
    return latest


def record_edit_flags(session: Session, path: str) -> str:
    """Journal the flags of an edited file when they changed; a note for the person."""
    state = session.state.files[path]
    flags = scan_source(path, state.text, state.ranges)
    previous = journaled_flags(session.journal.entries, "edit").get(path, [])
    if flags != previous:
        session.record("flags", when="edit", files=[path], flags=[f.as_dict() for f in flags])
    return flags_note(flags)


def initial_files(entries: Iterable) -> dict[str, FileState]:
    """The editable files as the session began (its `files_initialised` entry)."""
    entry = next(e for e in entries if e.type == "files_initialised")
    return {
        path: FileState.from_text(info["text"], tuple(LineRange(a, b) for a, b in info["ranges"]))
        for path, info in entry.data["files"].items()
        if info["text"] is not None
    }


def record_submit_flags(session: Session, n: int, run_dir: Path) -> list[Flag]:
    """Journal the flags of the submitted snapshot (an empty list says it was checked)."""
    initial = initial_files(session.journal.entries)
    flags = snapshot_flags(run_dir, initial)
    paths = sorted(p for p, f in initial.items() if f.ranges)
    session.record("flags", when="submit", n=n, files=paths, flags=[f.as_dict() for f in flags])
    return flags


def flags_note(flags: list[Flag]) -> str:
    if not flags:
        return ""
    return "\n".join(
        ["Integrity flags (recorded; shown beside your result, which a re-score can confirm):"]
        + [f"  {flag.describe()}" for flag in flags]
    )
