"""The append-only session journal: JSON lines chained by hash.

Each line carries the SHA-256 of the previous line's bytes, so an edited or
removed line breaks the chain and is detected on load. A last line without
its newline (the process died mid-write) is dropped and reported, never
silently kept. Every append is flushed and fsynced before it returns.
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
    """Open for appending; loading verifies the whole chain first."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self.warning: str | None = None
        if path.exists():
            self.entries, self._prev, valid, self.warning = read_journal(path)
            if valid != path.stat().st_size:
                with open(path, "r+b") as fh:  # cut the torn line so appends chain
                    fh.truncate(valid)
                    os.fsync(fh.fileno())
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.entries, self._prev = [], GENESIS
        self._fh = open(path, "ab")

    def append(self, type_: str, **data: Any) -> Entry:
        with self._lock:
            entry = Entry(len(self.entries), now_iso(), type_, data)
            record = {"seq": entry.seq, "time": entry.time, "type": type_, "data": data, "prev": self._prev}
            raw = json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
            self._fh.write(raw + b"\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._prev = _digest(raw)
            self.entries.append(entry)
            return entry

    def close(self) -> None:
        with self._lock:
            self._fh.close()
