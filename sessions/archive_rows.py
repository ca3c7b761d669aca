"""Leaderboard rows from a folder of session archives (other people's results).

Only an archive that passes every check of `verify` becomes a row; the rest
are listed with the reason, and so are archives of another task or profile.
Two archives of one session (its journal's first line) count once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sessions.archive import ARCHIVE_SUFFIXES
from sessions.leaderboard import VERIFIED_ARCHIVE, Row, numbers
from sessions.verify import verify_archive
from sessions.worktime import duration_text
from tasks import Catalog
from tasks.spec import TaskSpec


@dataclass
class ImportedRows:
    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)  # verification failed
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # verified, but not for this board


def archive_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES))


def archive_rows(task: TaskSpec, folders: list[Path], profile: str, catalog: Catalog) -> ImportedRows:
    """One row per verified archive of this task and profile, in the shape of the board's rows."""
    out = ImportedRows()
    seen: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            out.rejected.append((folder, "not a folder of archives"))
            continue
        for path in archive_files(folder):
            verdict = verify_archive(path, catalog)
            if not verdict.ok or verdict.state is None:
                out.rejected.append((path, verdict.reason()))
                continue
            meta = verdict.state.meta
            if meta["task_id"] != task.id or meta["profile"] != profile:
                out.skipped.append((path, f"task {meta['task_id']}, profile {meta['profile']}"))
                continue
            if verdict.identity in seen:
                out.skipped.append((path, f"the same session as {seen[verdict.identity].name}"))
                continue
            seen[verdict.identity] = path
            detail = [
                f"archive {path.name}", f"session {verdict.manifest['session']['id']}",
                f"submitted test #{verdict.state.submitted_test}", f"seed {meta['seed']}",
                f"worked {duration_text(verdict.state.work.seconds())}",
            ]
            if verdict.flags:
                detail.append(f"{len(verdict.flags)} integrity flag(s)")
            out.rows.append(Row(f"person:{meta.get('person') or 'anonymous'}", "person",
                                numbers(verdict.final_results()), ", ".join(detail), VERIFIED_ARCHIVE, str(meta["seed"])))
    return out


def import_lines(imported: ImportedRows) -> list[str]:
    """What the import left out, and why (for under the table)."""
    lines = [f"rejected {path}: {reason}" for path, reason in imported.rejected]
    return lines + [f"not on this board {path}: {reason}" for path, reason in imported.skipped]
