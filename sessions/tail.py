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
