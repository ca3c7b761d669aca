"""Comparing two replays side by side: steps aligned, final tables joined.

Tests are the anchors: test n of one replay sits beside test n of the
other (within the same run), submissions beside each other. The edits and
undos between two anchors are aligned by kind, in order; free text is left
out unless asked for.

Final values are weighed (which side is better) only when both replays ran
the same profile: a demo score says nothing against a paper one.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Iterator

from sessions.replay.model import TEXT, Replay, Step, SubmitStep, TestStep, as_number


@dataclass(frozen=True)
class Row:
    a: Step | None
    b: Step | None

    @property
    def kind(self) -> str:
        return (self.a or self.b).kind  # type: ignore[union-attr]


@dataclass(frozen=True)
class MetricRow:
    metric: str
    a: str | None
    b: str | None
    direction: str | None = None  # max | min, where known
    better: str | None = None  # "a" | "b" | "=" where both are numbers and the direction is known


@dataclass
class Comparison:
    a: Replay
    b: Replay
    rows: list[Row] = field(default_factory=list)
    final: list[MetricRow] = field(default_factory=list)

    @property
    def profiles(self) -> tuple[str | None, str | None]:
        return protocol(self.a), protocol(self.b)

    @property
    def same_protocol(self) -> bool:
        """Whether the two ran the same profile, so that their numbers can be weighed against each other."""
        a, b = self.profiles
        return a is not None and a == b

    def protocol_note(self) -> str | None:
        """Why neither side is called better, when they ran different (or unknown) profiles."""
        if self.same_protocol:
            return None
        a, b = (p or "not known" for p in self.profiles)
        return (f"A ran profile {a}, B ran profile {b}: their numbers are not comparable, "
                "so neither is called better")


def protocol(replay: Replay) -> str | None:
    """The profile a replay ran: its own record, else `paper` for a published agent conversation."""
    if replay.profile:
        return replay.profile
    return "paper" if replay.source in ("agent-json", "agent-text") else None


def _anchor(step: Step, run: int) -> tuple | None:
    if isinstance(step, TestStep) and step.n is not None:
        return (run, "test", step.n)
    if isinstance(step, SubmitStep):
        return (run, "submit")
    return None


def _segments(steps: list[Step]) -> list[tuple[tuple | None, list[Step], Step | None]]:
    """(anchor key, steps before it, the anchor step); the last has no anchor.

    Runs are counted from 1 in each replay, so the second run of a file
    lines up with the first of another when it is compared alone.
    """
    out, current = [], []
    runs: dict[int, int] = {}
    for step in steps:
        key = _anchor(step, runs.setdefault(step.run, len(runs) + 1))
        if key is None:
            current.append(step)
        else:
            out.append((key, current, step))
            current = []
    out.append((None, current, None))
    return out


def _align_free(a: list[Step], b: list[Step]) -> list[Row]:
    matcher = difflib.SequenceMatcher(None, [s.kind for s in a], [s.kind for s in b], autojunk=False)
    rows = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(Row(x, y) for x, y in zip(a[i1:i2], b[j1:j2]))
        else:
            left, right = a[i1:i2], b[j1:j2]
            for k in range(max(len(left), len(right))):
                x = left[k] if k < len(left) else None
                y = right[k] if k < len(right) else None
                if x is not None and y is not None and x.kind != y.kind:
                    rows.extend([Row(x, None), Row(None, y)])
                else:
                    rows.append(Row(x, y))
    return rows


def _align(a: list[Step], b: list[Step]) -> list[Row]:
    sa, sb = _segments(a), _segments(b)
    keys_b = {key: i for i, (key, _, _) in enumerate(sb) if key is not None}
    rows: list[Row] = []
    j = 0
    for key, free_a, anchor_a in sa:
        target = keys_b.get(key) if key is not None else len(sb) - 1
        if target is None or target < j:
            rows.extend(Row(s, None) for s in free_a)
            if anchor_a is not None:
                rows.append(Row(anchor_a, None))
            continue
        # b's segments skipped over: their steps stand alone
        for _, free_b, anchor_b in sb[j:target]:
            rows.extend(Row(None, s) for s in free_b)
            if anchor_b is not None:
                rows.append(Row(None, anchor_b))
        _, free_b, anchor_b = sb[target]
        rows.extend(_align_free(free_a, free_b))
        if anchor_a is not None or anchor_b is not None:
            rows.append(Row(anchor_a, anchor_b))
        j = target + 1
    for _, free_b, anchor_b in sb[j:]:
        rows.extend(Row(None, s) for s in free_b)
        if anchor_b is not None:
            rows.append(Row(None, anchor_b))
    return rows


def _better(direction: str | None, a: str | None, b: str | None) -> str | None:
    x, y = as_number(a), as_number(b)
    if direction not in ("max", "min") or math.isnan(x) or math.isnan(y):
        return None
    if x == y:
        return "="
    return "a" if (x > y) == (direction == "max") else "b"


def compare(a: Replay, b: Replay, directions: dict[str, str] | None = None, include_text: bool = False) -> Comparison:
    """Align two replays' steps (by kind and test number) and their final tables.

    `directions` (metric -> "max" | "min", e.g. TaskSpec.metric_directions())
    says which value is better.
    """
    steps_a = [s for s in a.steps if include_text or s.kind != TEXT]
    steps_b = [s for s in b.steps if include_text or s.kind != TEXT]
    result = Comparison(a, b, _align(steps_a, steps_b))
    fa, fb = a.final, b.final
    names = list(fa) + [k for k in fb if k not in fa]
    directions = directions or {}
    weigh = result.same_protocol
    for name in names:
        d = directions.get(name)
        better = _better(d, fa.get(name), fb.get(name)) if weigh else None
        result.final.append(MetricRow(name, fa.get(name), fb.get(name), d, better))
    return result


def format_compare(cmp: Comparison, width: int = 48) -> Iterator[str]:
    """Two columns of step summaries, then the final tables side by side."""

    def cell(step: Step | None) -> str:
        if step is None:
            return ""
        text = f"{step.icon} {step.summary()}"
        return text if len(text) <= width else text[: width - 1] + "…"

    name_a = cmp.a.who or cmp.a.path
    name_b = cmp.b.who or cmp.b.path
    yield f"{'A: ' + name_a:<{width}}  |  B: {name_b}"
    yield "-" * (width * 2 + 5)
    for row in cmp.rows:
        yield f"{cell(row.a):<{width}}  |  {cell(row.b)}"
    yield ""
    if not cmp.final:
        yield "No final results on either side."
        return
    note = cmp.protocol_note()
    if note:
        yield note + "."
    mw = max(len(r.metric) for r in cmp.final)
    yield f"{'metric':<{mw}}  {'A':>12}  {'B':>12}  better"
    for r in cmp.final:
        better = {"a": "A", "b": "B", "=": "="}.get(r.better or "", "")
        yield f"{r.metric:<{mw}}  {r.a or '-':>12}  {r.b or '-':>12}  {better}"
