"""Errors the engine reports to a person: each message says what is wrong and what to do."""

from __future__ import annotations

import errno
from pathlib import Path


class Refused(Exception):
    """An action the rules do not allow now; nothing was spent or changed."""


class StorageError(Refused):
    """A file of the session could not be written (disk full, no permission)."""


def storage_error(exc: OSError, path: Path | str, outcome: str) -> StorageError:
    """The failed write as a message: what could not be written, why, and what it left."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full (or the quota is used up)"
        advice = "free some space and run the command again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "it is not writable (permission denied or a read-only file system)"
        advice = "use a sessions folder you can write (--sessions-dir or MLSBENCH_SESSIONS)"
    else:
        why = exc.strerror or str(exc)
        advice = "check the folder and run the command again"
    return StorageError(f"could not write {exc.filename or path}: {why}. {outcome}; {advice}.")
