"""Where sessions live: <sessions dir>/<task>/<session-id>/."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sessions.folder import SessionFolder
from sessions.journal import JournalCorrupt, journal_identity, read_journal
from sessions.state import ReplayMismatch, SessionState

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
    identity: str = ""  # the hash of the journal's first line; a copied folder shares it
    copy_of: str | None = None  # the id of the session this folder is a copy of
    submitted_at: str = ""

    @property
    def status(self) -> str:
        if self.problem:
            return "unreadable"
        if self.copy_of:
            return f"a copy of session {self.copy_of} (read-only)"
        if self.closed:
            return f"submitted test #{self.submitted_test}"
        return f"open, {self.budget_left} tests left"

    @property
    def is_open(self) -> bool:
        """Can take edits and tests: readable, not a copy, not submitted."""
        return not (self.problem or self.copy_of or self.closed)


def copy_of(session_dir: Path, meta: dict, identity: str) -> str | None:
    """The original's id when this folder is a copy: the folder its journal was begun in
    is elsewhere and still holds a journal with the same identity. (A folder moved, or
    renamed, leaves no such original behind, and stays the session.)"""
    begun_in = meta.get("folder")  # journals from before identities were kept have none
    if not begun_in or Path(begun_in) == session_dir.resolve():
        return None
    try:
        original = journal_identity(SessionFolder(Path(begun_in)).journal)
    except OSError:
        return None
    return meta.get("session_id", Path(begun_in).name) if original == identity else None


def unjournaled_start(test_dir: Path) -> bool:
    """A test folder holding only its snapshot: a start that died before it was journaled
    (versions before the journal came first made the folder first). No test ran in it."""
    return test_dir.is_dir() and [p.name for p in test_dir.iterdir()] == ["run"]


def folder_problem(session_dir: Path, state: SessionState) -> str | None:
    """A run folder the journal does not know: the journal was cut or replaced."""
    folder = SessionFolder(session_dir)
    tests_dir = folder.tests
    numbered = sorted(int(p.name) for p in tests_dir.iterdir() if p.name.isdigit()) if tests_dir.is_dir() else []
    unknown = [n for n in numbered if n > len(state.tests) and not unjournaled_start(folder.test_dir(n))]
    if unknown:
        return (
            f"{folder.test_dir(unknown[0])} exists but the journal records {len(state.tests)} test(s): "
            "the journal is shorter than the test folders imply (cut or replaced?). Nothing was "
            "changed; restore journal.jsonl from a backup"
        )
    if folder.submit.is_dir() and state.submission is None:
        return (
            f"{folder.submit} exists but the journal records no submission (cut or replaced?). "
            "Nothing was changed; restore journal.jsonl from a backup"
        )
    return None


def summarize(session_dir: Path) -> SessionSummary:
    state = SessionState()
    try:
        entries, _, _, _ = read_journal(SessionFolder(session_dir).journal)
        identity = journal_identity(SessionFolder(session_dir).journal) or ""
        for entry in entries:
            state.apply(entry.type, entry.data, entry.time)
    except (OSError, JournalCorrupt, ReplayMismatch) as exc:
        return SessionSummary(session_dir, session_dir.name, session_dir.parent.name, "?", 0, "", "", 0, None, False, {}, str(exc))
    meta = state.meta
    results = state.final_results() if state.closed else {}
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
        problem=folder_problem(session_dir, state),
        identity=identity,
        copy_of=copy_of(session_dir, meta, identity),
        submitted_at=state.submission.started_at if state.submission else "",
    )


def list_sessions(sessions_dir: Path, task_id: str | None = None) -> list[SessionSummary]:
    if not sessions_dir.is_dir():
        return []
    task_dirs = [sessions_dir / task_id] if task_id else sorted(p for p in sessions_dir.iterdir() if p.is_dir())
    found = []
    for task_dir in task_dirs:
        if task_dir.is_dir():
            found.extend(summarize(d) for d in sorted(task_dir.iterdir()) if SessionFolder(d).journal.is_file())
    return sorted(found, key=lambda s: s.id)


class NoSuchSession(LookupError):
    """No session id begins with the text given (an ambiguous one is a plain LookupError)."""


def find_session(sessions_dir: Path, session_id: str) -> Path:
    """The folder of the session whose id is `session_id`, or the only one it begins."""
    found = list_sessions(sessions_dir)
    exact = [s.dir for s in found if s.id == session_id]
    if len(exact) == 1:  # an id that is also the prefix of another (X and X-2) is X
        return exact[0]
    matches = exact or [s.dir for s in found if s.id.startswith(session_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NoSuchSession(f"no session matching {session_id!r} in {sessions_dir} (no id of the "
                            f"{len(found)} session(s) there begins with it); `mlsbench-tui sessions` "
                            "lists them, --sessions-dir looks in another folder")
    listed = "\n  ".join(f"{d.name}  {d}" for d in matches)
    raise LookupError(f"{len(matches)} sessions match {session_id!r}; give more of the id:\n  {listed}")


def session_or_path(sessions_dir: Path, text: str) -> Path:
    """A path that exists as given, else the folder of the session `text` names (id or prefix)."""
    path = Path(text).expanduser()
    if path.exists() or not text.strip():
        return path
    try:
        return find_session(sessions_dir, text)
    except NoSuchSession as exc:
        raise NoSuchSession(f"no file or folder {text!r} here, and {exc}") from None


def write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
