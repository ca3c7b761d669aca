"""The checks made before budget is spent: fixed lines, fixed files, snapshots, compiling.

Each takes the session's facts (its folder, the journal's state, the files as
the session began) and returns problems as messages; an empty list means sound.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sessions.errors import Refused
from sessions.folder import SessionFolder
from sessions.ranges import describe, fixed_segments, match_ranges
from sessions.state import FileState, SessionState, sha256_text
from tasks.spec import LineRange, TaskSpec

InitialFiles = dict[str, dict[str, Any]]  # the journal's files_initialised: path -> text, sha256, ranges


def fixed_violation(path: str, current: FileState, proposed: FileState) -> str:
    """Which fixed line of `path` a proposed text changes, in words."""
    editable = {n for r in current.ranges for n in range(r.start, r.end + 1)}
    for n, (old, new) in enumerate(zip(current.lines, proposed.lines), start=1):
        if old != new and n not in editable:
            return f"line {n} of {path} is fixed and may not change; editable lines: {describe(list(current.ranges))}"
    return f"the change to {path} alters fixed lines; editable lines: {describe(list(current.ranges))}"


def keeps_fixed_lines(state: FileState, text: str) -> FileState | None:
    """The file state a text would have if it keeps `state`'s fixed lines (None: it does not)."""
    proposed = FileState.from_text(text, state.ranges)
    ranges = match_ranges(fixed_segments(list(state.lines), list(state.ranges)), list(proposed.lines))
    return None if ranges is None else FileState.from_text(text, tuple(ranges))


def disk_mismatch(path: str, state: FileState, folder: SessionFolder) -> str | None:
    """Why the workspace file differs from what the journal says (None: it is the same)."""
    try:
        disk = folder.workspace_file(path).read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        return f"{path} in the workspace cannot be read ({exc}); undo or restore it"
    if disk == state.text:
        return None
    if keeps_fixed_lines(state, disk) is None:
        proposed = FileState.from_text(disk, state.ranges)
        return (
            f"{path} was changed outside the engine and the change touches fixed lines: "
            f"{fixed_violation(path, state, proposed)}. Restore those lines, or run "
            f"`mlsbench-tui session sync` after fixing them."
        )
    return (
        f"{path} was changed outside the engine (inside the editable lines). Record it "
        "first: save it in the app, or run `mlsbench-tui session sync`."
    )


def fixed_file_problems(task: TaskSpec, folder: SessionFolder, state: SessionState, initial: InitialFiles) -> list[str]:
    """Fixed files (no editable lines) in the workspace that differ from the scaffold."""
    problems = []
    for f in task.files:
        if f.path in state.files and state.files[f.path].ranges:
            continue
        try:
            disk = folder.workspace_file(f.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            disk = None
        if disk is None or sha256_text(disk) != initial[f.path]["sha256"]:
            problems.append(f"{f.path} is a fixed file and differs from the scaffold; restore it")
    return problems


def integrity_problems(task: TaskSpec, folder: SessionFolder, state: SessionState, initial: InitialFiles) -> list[str]:
    """Compare every fixed line with the scaffold, by hash."""
    problems = []
    for f in task.files:
        try:
            scaffold = folder.scaffold_file(f.path).read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"the session's scaffold copy {f.path} is unreadable: {exc}")
            continue
        if sha256_text(scaffold) != initial[f.path]["sha256"]:
            problems.append(f"the session's scaffold copy of {f.path} was modified")
            continue
        if f.path in state.files and state.files[f.path].ranges:
            problems.extend(_editable_file_problems(f.path, scaffold, initial[f.path], state.files[f.path], folder))
    return problems + fixed_file_problems(task, folder, state, initial)


def _editable_file_problems(path: str, scaffold: str, original: dict[str, Any], state: FileState,
                            folder: SessionFolder) -> list[str]:
    ranges = [LineRange(a, b) for a, b in original["ranges"]]
    base = FileState.from_text(scaffold, tuple(ranges))
    expect = [sha256_text("\n".join(s)) for s in fixed_segments(list(base.lines), ranges)]
    got = [sha256_text("\n".join(s)) for s in fixed_segments(list(state.lines), list(state.ranges))]
    if expect != got:
        return [f"{path}: the fixed lines differ from the scaffold (the journal was tampered with?)"]
    mismatch = disk_mismatch(path, state, folder)
    return [mismatch] if mismatch else []


def compile_problems(files: dict[str, FileState]) -> list[str]:
    """Editable Python files that do not compile, with the line and column Python names."""
    problems = []
    for path, state in files.items():
        if not state.ranges or not path.endswith(".py"):
            continue
        try:
            compile(state.text, path, "exec")
        except SyntaxError as exc:
            if exc.lineno is None:  # Python gives no position for some errors
                problems.append(f"{path} does not compile: {exc.msg}")
                continue
            where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            problems.append(f"{path} does not compile: {exc.msg} ({where})")
    return problems


def snapshot_hashes(task: TaskSpec, state: SessionState, initial: InitialFiles) -> dict[str, str]:
    """What every file of a test's snapshot must hash to: the journal's text for
    editable files, the scaffold's for fixed ones."""
    return {
        f.path: sha256_text(state.files[f.path].text) if f.path in state.files else initial[f.path]["sha256"]
        for f in task.files
    }


def write_snapshot(task: TaskSpec, state: SessionState, folder: SessionFolder, run_dir: Path) -> None:
    """A complete copy of the workspace as the journal says it is, its files read-only."""
    for f in task.files:
        target = run_dir / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.path in state.files:
            target.write_text(state.files[f.path].text, encoding="utf-8")
        else:
            shutil.copyfile(folder.scaffold_file(f.path), target)
        target.chmod(0o444)


def snapshot_differences(run_dir: Path, expected: dict[str, str]) -> list[str]:
    problems = []
    for path, digest in expected.items():
        try:
            text = (run_dir / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path} is missing or unreadable ({exc.__class__.__name__})")
            continue
        if sha256_text(text) != digest:
            problems.append(f"{path} was modified")
    return problems


def refuse_mismatch(path: str, state: FileState, folder: SessionFolder) -> None:
    mismatch = disk_mismatch(path, state, folder)
    if mismatch:
        raise Refused(mismatch)
