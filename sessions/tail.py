"""Reading a growing log file from where it was left, in blocks of complete lines.

Drivers may print hundreds of thousands of lines a second. The engine reads
them as bytes and keeps the per-line Python work for the few lines that need
it (the metrics lines, and the last lines that a screen can show); the rest
is counted with C-speed byte operations and stays in the file on disk.
"""

from __future__ import annotations

import os
import operator
from array import array
from itertools import accumulate, count
from pathlib import Path
from typing import Iterator

CHUNK = 1 << 20


def decode_line(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


def split_lines(block: bytes) -> list[str]:
    """Every line of a block of complete lines (each ends with a newline)."""
    return [decode_line(p) for p in block.split(b"\n")[:-1]]


def last_lines(block: bytes, limit: int) -> tuple[list[str], int]:
    """The last `limit` lines of a block of complete lines, and how many came before them."""
    start = len(block) - 1  # the block's final newline
    for _ in range(limit):
        start = block.rfind(b"\n", 0, start)
        if start < 0:
            return split_lines(block), 0
    return split_lines(block[start + 1 :]), block.count(b"\n", 0, start + 1)


def lines_containing(block: bytes, needles: tuple[bytes, ...]) -> list[str]:
    """The lines of a block that contain any of `needles`, in order (found with bytes.find)."""
    spans: dict[int, int] = {}  # line start -> line end
    for needle in needles:
        pos = block.find(needle)
        while pos >= 0:
            end = block.find(b"\n", pos)
            end = len(block) if end < 0 else end
            spans[block.rfind(b"\n", 0, pos) + 1] = end
            pos = block.find(needle, end)
    return [decode_line(block[start : spans[start]]) for start in sorted(spans)]


class LogTailer:
    def __init__(self, path: Path, offset: int = 0):
        self.path, self.offset = path, offset
        self._partial = b""
        self.last_read = 0  # bytes read by the last call: CHUNK means more may be waiting

    def read_block(self) -> bytes:
        """The complete lines written since the last call, as bytes (b"" if none or no file)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                blob = fh.read(CHUNK)
        except FileNotFoundError:
            blob = b""
        self.last_read = len(blob)
        if not blob:
            return b""
        self.offset += len(blob)
        cut = blob.rfind(b"\n") + 1
        if not cut:  # still inside one long line
            self._partial += blob
            return b""
        block, self._partial = self._partial + blob[:cut], blob[cut:]
        return block

    def drain(self) -> Iterator[bytes]:
        """The rest of a log whose writer has ended: every block, then an unterminated last line."""
        while (block := self.read_block()) or self.last_read:
            if block:
                yield block
        if self._partial:  # the writer ended without a newline
            rest, self._partial = self._partial, b""
            yield rest + b"\n"


class SettingTail:
    """A setting's log and its metrics channel, read together as (log block, metrics block).

    A run from before the metrics channel has none: its log is read for both.
    """

    def __init__(self, log_path: Path, metrics_path: Path | None):
        self.log = LogTailer(log_path)
        self.metrics = LogTailer(metrics_path) if metrics_path is not None else None

    def read(self) -> tuple[bytes, bytes]:
        block = self.log.read_block()
        return (block, block) if self.metrics is None else (block, self.metrics.read_block())

    @property
    def caught_up(self) -> bool:
        """Whether the last read took all there was (less than a CHUNK from each file)."""
        return self.log.last_read < CHUNK and (self.metrics is None or self.metrics.last_read < CHUNK)

    def drain(self) -> Iterator[tuple[bytes, bytes]]:
        """The rest of both files once the writer has ended."""
        if self.metrics is None:
            yield from ((block, block) for block in self.log.drain())
            return
        yield from ((block, b"") for block in self.log.drain())
        yield from ((b"", block) for block in self.metrics.drain())


class LineIndex:
    """Where each line of a growing log starts, so that any line can be read from disk.

    `update` indexes what was appended since the last call (at most `budget` bytes, with
    C-speed byte operations: a 1 MiB block of short lines costs a few milliseconds);
    `lines(first, last)` reads that range with one read. Memory: 8 bytes per line. The
    bytes after the last newline (a line still being written) count as a last line.
    """

    def __init__(self, path: Path):
        self.path = path
        self.starts = array("q", [0])  # starts[i]: offset of line i; the last entry ends the indexed part
        self.widest = 0  # the longest line indexed, in bytes (a view's width)
        self.size = 0  # the file's size at the last update
        self.partial = 0  # bytes of a last line still being written, once the index reached the end

    @property
    def indexed(self) -> int:
        """Complete lines indexed."""
        return len(self.starts) - 1

    def __len__(self) -> int:
        return self.indexed + (self.partial > 0)

    def update(self, budget: int = CHUNK) -> bool:
        """Index what the file gained; whether anything changed."""
        end = self.starts[-1]
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size == self.size and size == end:
                    return False
                fh.seek(end)
                blob = fh.read(budget)
        except OSError:
            return False
        grew = size != self.size
        self.size = size
        cut = blob.rfind(b"\n") + 1
        self.partial = len(blob) - cut if end + len(blob) >= size else 0  # only once the rest is one line
        if not cut and len(blob) >= budget:  # a line longer than the budget: indexed in pieces
            self.starts.append(end + len(blob))
            self.widest = max(self.widest, len(blob))
            self.partial = 0
            return True
        if not cut:
            return grew
        lengths = list(map(len, blob[:cut].split(b"\n")[:-1]))
        self.starts.extend(map(operator.add, accumulate(lengths), count(end + 1)))
        self.widest = max(self.widest, max(lengths))
        return True

    def _end(self, line: int) -> int:
        return self.starts[line + 1] if line < self.indexed else self.starts[-1] + self.partial

    def length(self, line: int) -> int:
        """Bytes in a line (its newline included, where it has one)."""
        return self._end(line) - self.starts[line]

    def lines(self, first: int, last: int) -> list[str]:
        """Lines first..last-1, read from disk in one read."""
        last = min(last, len(self))
        if first >= last:
            return []
        start = self.starts[first]
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                blob = fh.read(self._end(last - 1) - start)
        except OSError:
            return []
        return [decode_line(blob[self.starts[i] - start : self._end(i) - start].rstrip(b"\n"))
                for i in range(first, last)]


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
