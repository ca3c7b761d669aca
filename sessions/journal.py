"""The append-only session journal: JSON lines chained by hash.

Each line carries the SHA-256 of the previous line's bytes, so an edited or
removed line breaks the chain and is detected on load. A last line without
its newline (the process died mid-write) is dropped and reported, never
silently kept. Every append is flushed and fsynced before it returns; an
append that cannot be written (disk full) is cut off again, so the journal
never keeps a partial line.

A session's identity is the hash of its journal's first line: a copied
session folder carries the same identity, so it can be recognised.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sessions.errors import Refused, storage_error

GENESIS = "0" * 64


class JournalCorrupt(RuntimeError):
    def __init__(self, path: Path, line_no: int, reason: str):
        self.path, self.line_no, self.reason = path, line_no, reason
        super().__init__(
            f"{path}: line {line_no}: {reason}. The journal was changed after it was "
            "written, so this session cannot be resumed as it is; restore the file "
            "from a backup or start a new session."
        )


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    type: str
    data: dict[str, Any]


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def journal_identity(path: Path) -> str | None:
    """The hash of the first line (None while it has none): the session's identity."""
    with open(path, "rb") as fh:
        first = fh.readline()
    return _digest(first[:-1]) if first.endswith(b"\n") else None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def read_journal(path: Path) -> tuple[list[Entry], str, int, str | None]:
    """Entries, the hash to chain the next line to, the byte length of the
    valid part, and a warning if a truncated last line was dropped."""
    blob = path.read_bytes()
    entries, prev, offset, warning = [], GENESIS, 0, None
    lines = blob.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for number, raw in enumerate(complete, start=1):
        try:
            obj = json.loads(raw)
            entry = Entry(obj["seq"], obj["time"], obj["type"], obj["data"])
            chained = obj["prev"]
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalCorrupt(path, number, f"not a journal entry ({exc})") from None
        if chained != prev:
            raise JournalCorrupt(path, number, "hash chain broken")
        if entry.seq != number - 1:
            raise JournalCorrupt(path, number, f"sequence number {entry.seq}, expected {number - 1}")
        entries.append(entry)
        prev = _digest(raw)
        offset += len(raw) + 1
    if tail:
        warning = (
            f"{path.name}: dropped an incomplete last line ({len(tail)} bytes, "
            "written when the app was killed); everything before it is intact"
        )
    return entries, prev, offset, warning


class Journal:
    """Open for appending (or, writable=False, only to read); loading verifies the whole chain first."""

    def __init__(self, path: Path, writable: bool = True):
        self.path = path
        self._lock = threading.Lock()
        self.warning: str | None = None
        self._fh = None
        if path.exists():
            self.entries, self._prev, self._size, self.warning = read_journal(path)
            if writable and self._size != path.stat().st_size:
                with open(path, "r+b") as fh:  # cut the torn line so appends chain
                    fh.truncate(self._size)
                    os.fsync(fh.fileno())
        else:
            if not writable:
                raise FileNotFoundError(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.entries, self._prev, self._size = [], GENESIS, 0
        if writable:
            try:
                self._fh = open(path, "ab")
            except OSError as exc:
                raise storage_error(exc, path, "The session was not opened") from None

    @property
    def identity(self) -> str | None:
        return journal_identity(self.path) if self.entries else None

    def append(self, type_: str, **data: Any) -> Entry:
        with self._lock:
            if self._fh is None:
                raise Refused(f"{self.path} is open read-only here: nothing can be recorded")
            entry = Entry(len(self.entries), now_iso(), type_, data)
            record = {"seq": entry.seq, "time": entry.time, "type": type_, "data": data, "prev": self._prev}
            raw = json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
            try:
                self._fh.write(raw + b"\n")
                self._fh.flush()
                os.fsync(self._fh.fileno())
            except OSError as exc:
                self._cut_back()
                raise storage_error(exc, self.path, f"Nothing of this {type_.replace('_', ' ')} was recorded") from None
            self._prev = _digest(raw)
            self._size += len(raw) + 1
            self.entries.append(entry)
            return entry

    def _cut_back(self) -> None:
        """After a failed append: drop what part of the line reached the file."""
        try:
            self._fh.close()
        except OSError:
            pass  # its buffer could not be flushed: the part written is cut below
        with open(self.path, "r+b") as fh:
            fh.truncate(self._size)
        self._fh = open(self.path, "ab")

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.close()
                except OSError:
                    pass  # every append was flushed already; a failed one was cut back
