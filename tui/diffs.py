"""What each test changed: its snapshot against the test before it (test 1: the scaffold).

Hunks are numbered by the file's own lines (`@@ -195,3 +195,4 @@` is line 195
of the file), as the replay numbers an edit: both use the replay's region_diff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessions.replay.model import region_diff
from sessions.state import FileState

if TYPE_CHECKING:
    from sessions.engine import Session

CONTEXT = 2  # unchanged lines around a change (the history pane is narrow)


def snapshot_text(session: Session, n: int, path: str) -> str | None:
    try:
        return (session.folder.run_dir(n) / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def scaffold_text(session: Session, path: str) -> str | None:
    try:
        return session.folder.scaffold_file(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def diff_of_test(session: Session, n: int) -> list[str]:
    """Test n's editable files against the previous test's (test 1: the scaffold's).

    The fixed lines are the same in both (checked by hash before every test), so
    the hunks fall in the editable regions, with fixed lines as their context."""
    out: list[str] = []
    before = "scaffold" if n == 1 else f"test #{n - 1}"
    for path in session.editable_paths:
        new_text = snapshot_text(session, n, path)
        old_text = snapshot_text(session, n - 1, path) if n > 1 else scaffold_text(session, path)
        if new_text is None or old_text is None:
            out.append(f"({path}: the snapshot is not readable)")
            continue
        old, new = FileState.from_text(old_text, ()), FileState.from_text(new_text, ())
        diff = region_diff(old, new, 1, len(old.lines), len(new.lines), path, CONTEXT)
        if diff:
            out.extend([f"--- {path} ({before})", f"+++ {path} (test #{n})", *diff[2:]])
        else:
            out.append(f"{path}: editable lines unchanged since {before}")
    return out
