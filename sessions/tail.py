"""Reading a growing log file line by line, from where it was left."""

from __future__ import annotations

from pathlib import Path

CHUNK = 1 << 20


class LogTailer:
    def __init__(self, path: Path, offset: int = 0):
        self.path, self.offset = path, offset
        self._partial = b""

    def read_lines(self) -> list[str]:
        """Complete lines written since the last call (none if the file is absent)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                blob = fh.read(CHUNK)
        except FileNotFoundError:
            return []
        if not blob:
            return []
        self.offset += len(blob)
        pieces = (self._partial + blob).split(b"\n")
        self._partial = pieces.pop()
        return [p.decode("utf-8", errors="replace").rstrip("\r") for p in pieces]

    def flush_partial(self) -> list[str]:
        """The last line when the writer ended without a newline."""
        rest, self._partial = self._partial, b""
        return [rest.decode("utf-8", errors="replace")] if rest else []


def read_log_tail(path: Path, max_lines: int, max_bytes: int = 256 * 1024) -> tuple[list[str], bool]:
    """The last lines of a log file, and whether earlier ones were left out."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            blob = fh.read()
    except OSError:
        return [], False
    lines = blob.decode("utf-8", errors="replace").splitlines()
    cut = size > max_bytes
    if cut and lines:
        lines = lines[1:]  # the first one is probably partial
    if len(lines) > max_lines:
        lines, cut = lines[-max_lines:], True
    return lines, cut
