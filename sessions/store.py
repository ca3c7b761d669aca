"""Where sessions live: <sessions dir>/<task>/<session-id>/."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sessions.journal import JournalCorrupt, read_journal
from sessions.state import SessionState

JOURNAL = "journal.jsonl"


def default_sessions_dir() -> Path:
    env = os.environ.get("MLSBENCH_SESSIONS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mlsbench-tui" / "sessions"


def default_data_root() -> Path:
    env = os.environ.get("MLSBENCH_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mlsbench-tui" / "data"


def new_session_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass(frozen=True)
class SessionSummary:
    dir: Path
    id: str
    task_id: str
    profile: str
    seed: int
    person: str
    created_at: str
    budget_left: int
    submitted_test: int | None
    closed: bool
    results: dict[str, str]  # the submission's final results, when closed
    problem: str | None = None  # why the journal could not be read

    @property
    def status(self) -> str:
        if self.problem:
            return "unreadable"
        if self.closed:
            return f"submitted test #{self.submitted_test}"
        return f"open, {self.budget_left} tests left"


def summarize(session_dir: Path) -> SessionSummary:
    try:
        entries, _, _, _ = read_journal(session_dir / JOURNAL)
    except (OSError, JournalCorrupt) as exc:
        return SessionSummary(session_dir, session_dir.name, session_dir.parent.name, "?", 0, "", "", 0, None, False, {}, str(exc))
    state = SessionState()
    for entry in entries:
        state.apply(entry.type, entry.data, entry.time)
    meta = state.meta
    results: dict[str, str] = {}
    if state.closed and state.submission is not None:
        results = {**state.tests[state.submission.key.n - 1].results(), **state.submission.results()}
    return SessionSummary(
        dir=session_dir,
        id=session_dir.name,
        task_id=meta.get("task_id", session_dir.parent.name),
        profile=meta.get("profile", "?"),
        seed=meta.get("seed", 0),
        person=meta.get("person", ""),
        created_at=meta.get("created_at", ""),
        budget_left=state.budget_left if meta else 0,
        submitted_test=state.submitted_test,
        closed=state.closed,
        results=results,
    )


def list_sessions(sessions_dir: Path, task_id: str | None = None) -> list[SessionSummary]:
    if not sessions_dir.is_dir():
        return []
    task_dirs = [sessions_dir / task_id] if task_id else sorted(p for p in sessions_dir.iterdir() if p.is_dir())
    found = []
    for task_dir in task_dirs:
        if task_dir.is_dir():
            found.extend(summarize(d) for d in sorted(task_dir.iterdir()) if (d / JOURNAL).is_file())
    return sorted(found, key=lambda s: s.id)


def find_session(sessions_dir: Path, session_id: str) -> Path:
    matches = [s.dir for s in list_sessions(sessions_dir) if s.id == session_id or s.id.startswith(session_id)]
    if len(matches) != 1:
        what = "no session" if not matches else f"{len(matches)} sessions"
        raise LookupError(f"{what} matching {session_id!r} in {sessions_dir}; `mlsbench-tui sessions` lists them")
    return matches[0]


def write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
