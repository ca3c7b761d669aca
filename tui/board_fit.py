"""A leaderboard table that fits the screen's width: never a column off-screen.

What gives way, in order, until the table fits: the detail column; the metric
headings shortened to what tells them apart (test_acc_resnet20-cifar100mt ->
resnet20, the shared part said in a note); the provenance abbreviated and
"mean rank" headed "rank"; the seeds column; last, the entry text cut with an
ellipsis (to MIN_ENTRY at the least: only a screen narrower than about 80
columns is left with a table wider than itself). No Textual here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from rich.cells import cell_len

from sessions.leaderboard import PUBLISHED, RESCORED_HERE, RESCORED_SHIPPED, VERIFIED_ARCHIVE, Row
from tui.model import MetricColumn, value_text

CELL_PADDING = 2  # a DataTable column's cells are padded by one on each side
MIN_ENTRY = 12  # the entry column is never cut narrower than this
SHORT_PROVENANCE = {PUBLISHED: "publ.", RESCORED_HERE: "here", RESCORED_SHIPPED: "shipped", VERIFIED_ARCHIVE: "archive"}
SEPARATORS = "_-. "


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    cells: tuple[str, ...]

    @property
    def width(self) -> int:
        return max(cell_len(self.heading), *(cell_len(c) for c in self.cells), 1) + CELL_PADDING


@dataclass(frozen=True)
class FittedBoard:
    columns: tuple[Column, ...]
    dropped: tuple[str, ...]  # the columns left out
    shared: str  # what the shortened metric headings share, as "test_acc_‹name›-cifar100mt"; "" when not shortened

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    @property
    def note(self) -> str:
        """What gave way, for a line under the table ("" when nothing did)."""
        parts = [f"Metric columns are {self.shared}."] if self.shared else []
        if self.dropped:
            parts.append(f"Left out at this width: {', '.join(self.dropped)} (`mlsbench-tui leaderboard` prints them).")
        return " ".join(parts)


def board_columns(columns: Sequence[MetricColumn], rows: Sequence[Row], ranks: Sequence[float | None]) -> list[Column]:
    """Every column of the board at full length."""
    out = [Column("place", "#", tuple(str(i) if r is not None else "-" for i, r in enumerate(ranks, start=1))),
           Column("entry", "entry", tuple(r.entry for r in rows))]
    out += [Column(c.name, c.heading, tuple(value_text(r.values.get(c.name)) for r in rows)) for c in columns]
    out += [Column("mean rank", "mean rank", tuple("-" if k is None else f"{k:.2f}" for k in ranks)),
            Column("from", "from", tuple(r.provenance for r in rows)),
            Column("seeds", "seeds", tuple(r.seeds or "-" for r in rows)),
            Column("detail", "detail", tuple(r.detail for r in rows))]
    return out


def shared_ends(names: Sequence[str]) -> tuple[str, str]:
    """The prefix and suffix every name shares, cut back to a separator (so `resnet` of
    resnet20 and resnet56 is kept when vgg16bn has it not)."""
    if len(names) < 2:
        return "", ""
    prefix = os.path.commonprefix(list(names))
    prefix = prefix[: max((prefix.rfind(s) + 1 for s in SEPARATORS), default=0)]
    suffix = os.path.commonprefix([n[::-1] for n in names])[::-1]
    cut = [suffix.find(s) for s in SEPARATORS if s in suffix]
    suffix = suffix[min(cut):] if cut else ""
    if any(len(n) <= len(prefix) + len(suffix) for n in names):
        return "", ""
    return prefix, suffix


def _drop(key: str) -> Callable[[list[Column], list[str]], None]:
    def step(cols: list[Column], notes: list[str]) -> None:
        if any(c.key == key for c in cols):
            cols[:] = [c for c in cols if c.key != key]
            notes.append(key)
    return step


def _short_metrics(metrics: Sequence[MetricColumn]) -> Callable[[list[Column], list[str]], None]:
    def step(cols: list[Column], notes: list[str]) -> None:
        prefix, suffix = shared_ends([m.name for m in metrics])
        if not (prefix or suffix):
            return
        by_name = {m.name: m for m in metrics}
        for i, c in enumerate(cols):
            if c.key in by_name:
                short = c.key[len(prefix): len(c.key) - len(suffix)]
                cols[i] = replace(c, heading=by_name[c.key].heading.replace(c.key, short, 1))
        notes.append(f"{prefix}‹name›{suffix}")
    return step


def _short_provenance(cols: list[Column], notes: list[str]) -> None:
    for i, c in enumerate(cols):
        if c.key == "from":
            cols[i] = replace(c, cells=tuple(SHORT_PROVENANCE.get(v, v) for v in c.cells))
        elif c.key == "mean rank":
            cols[i] = replace(c, heading="rank")


def fit_board(columns: Sequence[MetricColumn], rows: Sequence[Row], ranks: Sequence[float | None],
              width: int) -> FittedBoard:
    """The board's columns, made to fit `width` cells (see the module's docstring)."""
    cols = board_columns(columns, rows, ranks)
    dropped: list[str] = []
    shared: list[str] = []
    steps = [(_drop("detail"), dropped), (_short_metrics(columns), shared), (_short_provenance, shared),
             (_drop("seeds"), dropped)]
    for step, notes in steps:
        if sum(c.width for c in cols) <= width:
            break
        step(cols, notes)
    excess = sum(c.width for c in cols) - width
    if excess > 0:
        i = next(i for i, c in enumerate(cols) if c.key == "entry")
        room = max(MIN_ENTRY, cols[i].width - CELL_PADDING - excess)
        cols[i] = replace(cols[i], cells=tuple(cut(e, room) for e in cols[i].cells))
    return FittedBoard(tuple(cols), tuple(dropped), "".join(shared))


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, an ellipsis marking a cut."""
    if cell_len(text) <= width:
        return text
    out = ""
    for ch in text:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return re.sub(r"\s+$", "", out) + "…"
