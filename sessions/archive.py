"""A session as one archive that others can check without the person's machine.

    export_session(session_dir, task, out)    # -> out, a .tar.gz
    with open_archive(path) as archive: ...   # extracted, its manifest read

The archive holds the journal, every test's snapshot (the task's files as
they ran), each setting's log, metrics and exit file, `results.json`, and a manifest:
task id and scaffold hashes, times, results, notes, integrity flags, package
versions, and the SHA-256 of every other member. Everything in the manifest
is derived from the journal and the files, so `verify` trusts only those.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sessions.errors import Refused
from sessions.flags import journaled_flags
from sessions.folder import JOURNAL, SessionFolder
from sessions.journal import Entry, JournalCorrupt, journal_identity, now_iso, read_journal
from sessions.notes import session_notes
from sessions.state import RunRecord, SessionState
from sessions.versions import package_versions
from tasks.spec import TaskSpec

FORMAT = "mlsbench-tui-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUFFIX = ".mlsbench.tar.gz"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")  # what is read as an archive


class ArchiveError(Refused):
    """The archive cannot be read or written; the message says why."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def replay_state(entries: list[Entry]) -> SessionState:
    state = SessionState()
    for entry in entries:
        state.apply(entry.type, entry.data, entry.time)
    return state


def final_results(state: SessionState) -> dict[str, str]:
    """The submitted test's visible results plus the hidden ones (a closed session)."""
    return state.final_results() if state.closed else {}


def _run_times(record: RunRecord) -> dict[str, Any]:
    ends = [s.ended_at for s in record.settings.values() if s.ended_at]
    return {"n": record.key.n, "started_at": record.started_at, "ended_at": max(ends) if ends else None}


def _members(session_dir: Path, task: TaskSpec, state: SessionState) -> list[str]:
    """The files of the session that go into the archive besides its journal, relative to its folder."""
    folder, members = SessionFolder(session_dir), []
    for record in state.runs:
        if record.key.phase == "test":
            members += [folder.run_dir(record.key.n) / f.path for f in task.files]
        for label in record.settings:
            members += [folder.log_path(record.key, label), folder.metrics_path(record.key, label),
                        folder.exit_path(record.key, label)]
        members.append(folder.results_path(record.key))
    return [folder.relative(m) for m in members if m.is_file()]


def build_manifest(session_dir: Path, task: TaskSpec, entries: list[Entry], journal: bytes,
                   members: list[str]) -> dict[str, Any]:
    state = replay_state(entries)
    meta = state.meta
    initial = next(e for e in entries if e.type == "files_initialised").data["files"]
    submission = state.submission
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now_iso(),
        "session": {
            "id": session_dir.name, "identity": journal_identity(SessionFolder(session_dir).journal),
            "person": meta.get("person", ""), "profile": meta["profile"], "seed": meta["seed"],
            "test_budget": meta["test_budget"], "tests": len(state.tests),
            "submitted_test": state.submitted_test, "closed": state.closed,
        },
        "task": {
            "id": meta["task_id"], "title": meta.get("title", ""),
            "task_toml_sha256": file_sha256(task.folder / "task.toml"),
            "scaffold_sha256": {path: info["sha256"] for path, info in initial.items()},
        },
        "times": {
            "created_at": meta.get("created_at"),
            "tests": [_run_times(r) for r in state.tests],
            "submit": _run_times(submission) if submission else None,
        },
        "results": {
            "tests": {str(r.key.n): r.results() for r in state.tests},
            "final": final_results(state),
        },
        "flags": {
            when: {path: [f.as_dict() for f in flags] for path, flags in journaled_flags(entries, when).items()}
            for when in ("edit", "submit")
        },
        "notes": [{"time": e.time, "text": e.data.get("text", "")} for e in entries if e.type == "note"],
        "person_notes": [{"time": n.time, "step": n.step, "text": n.text} for n in session_notes(entries)],
        "work_time": state.work.summary(),
        "packages": package_versions(),
        "files": {JOURNAL: hashlib.sha256(journal).hexdigest(), **{m: file_sha256(session_dir / m) for m in members}},
    }


def export_session(session_dir: Path, task: TaskSpec, out: Path) -> Path:
    """Write the session's archive to `out` (replaced atomically); returns `out`."""
    try:
        entries, _, valid, _ = read_journal(SessionFolder(session_dir).journal)
        journal = (SessionFolder(session_dir).journal).read_bytes()[:valid]  # without a torn last line
    except OSError as exc:
        raise ArchiveError(f"cannot read the journal of {session_dir}: {exc}") from None
    except JournalCorrupt as exc:
        raise ArchiveError(f"not exported: {exc}") from None
    if not entries or entries[0].type != "session_created":
        raise ArchiveError(f"{SessionFolder(session_dir).journal} does not start a session; nothing to export")
    members = _members(session_dir, task, replay_state(entries))
    manifest = build_manifest(session_dir, task, entries, journal, members)
    mtime = int((SessionFolder(session_dir).journal).stat().st_mtime)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"), mtime)
            _add_bytes(tar, JOURNAL, journal, mtime)
            for member in members:
                tar.add(session_dir / member, arcname=member, recursive=False)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"cannot write {out}: {exc}") from None
    return out


def _add_bytes(tar: tarfile.TarFile, name: str, raw: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(raw), mtime, 0o644
    tar.addfile(info, io.BytesIO(raw))


@dataclass(frozen=True)
class Archive:
    path: Path  # the archive file
    root: Path  # where it was extracted (removed when the `with` block ends)
    manifest: dict[str, Any]


def _safe_members(tar: tarfile.TarFile, path: Path) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise ArchiveError(f"{path}: member {member.name!r} is not a plain file inside the archive; not extracted")
    return members


@contextmanager
def open_archive(path: Path) -> Iterator[Archive]:
    """Extract an archive into a temporary folder and read its manifest."""
    try:
        tar = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as exc:
        why = "not a tar or gzip file" if isinstance(exc, tarfile.ReadError) else str(exc)
        raise ArchiveError(f"{path} is not a readable session archive ({why}); `session export` writes one") from None
    with tar, tempfile.TemporaryDirectory(prefix="mlsbench-archive-") as tmp:
        root = Path(tmp)
        try:
            members = _safe_members(tar, path)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: the library's own guard too
                tar.extractall(root, members=members, filter="data")
            else:
                tar.extractall(root, members=members)
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, tarfile.TarError, ValueError, EOFError) as exc:
            raise ArchiveError(f"{path}: cannot read the archive or its {MANIFEST} ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"{path} is not an mlsbench-tui session archive (its {MANIFEST} says otherwise)")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(
                f"{path} is archive format version {manifest.get('format_version')}; this installation "
                f"reads version {FORMAT_VERSION}: update mlsbench-tui"
            )
        yield Archive(path, root, manifest)
