"""The replay model: an ordered list of steps, whatever the source.

A step is an edit (the file before and after, with the editable ranges
after), an undo, a test (per-setting output, metrics and status, and the
budget left after it), a submit (with the final table), or free text (an
agent's reasoning, a user message, a note). Every step keeps its time where
the source has one and the step number it had in the source.

File states are `FileState` objects shared between neighbouring steps (the
state after one edit is the state before the next), so a long replay holds
each version of a file once.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar, Iterator

from sessions.state import FileState
from tasks.spec import LineRange

EDIT, UNDO, TEST, SUBMIT, TEXT = "edit", "undo", "test", "submit", "text"
KINDS = (EDIT, UNDO, TEST, SUBMIT, TEXT)
ICONS = {EDIT: "✎", UNDO: "↶", TEST: "▶", SUBMIT: "★", TEXT: "¶"}

# A setting's status in a replay: the engine's statuses, plus what a
# transcript can leave us with.
INCOMPLETE = "incomplete"  # the output stops before the setting's result (truncated)
MISSING = "missing"  # the setting's output file was not found when it ran
UNKNOWN = "unknown"


@dataclass
class SettingResult:
    label: str
    status: str = UNKNOWN
    metrics: dict[str, str] = field(default_factory=dict)  # named results, values as printed
    values: dict[str, str] = field(default_factory=dict)  # other key=value pairs the setting reported
    output: str = ""  # the setting's output text (log tail, or the block the agent saw)
    exit_code: int | None = None
    script: str | None = None
    detail: str = ""
    hidden: bool = False
    started: str | None = None
    ended: str | None = None


@dataclass(kw_only=True)
class Step:
    kind: ClassVar[str] = TEXT
    index: int = 0  # position in the replay, from 1
    time: str | None = None
    source_step: int | None = None  # the step (agent) or entry number (journal) in the source
    run: int = 1  # which run of a file holding several concatenated runs
    notes: list[str] = field(default_factory=list)  # caveats: truncation, re-application, ...

    @property
    def icon(self) -> str:
        return ICONS[self.kind]

    def summary(self) -> str:
        return ""


@dataclass(kw_only=True)
class EditStep(Step):
    kind: ClassVar[str] = EDIT
    file: str
    start: int
    end: int
    content: str
    before: FileState | None = None  # the whole file before, where known
    after: FileState | None = None  # the whole file after, where known
    applied: bool = False  # `after` is the file as it was after this edit
    exact: bool = True  # False when `after` holds placeholders for text the source lost
    refused: bool = False  # the tool refused the edit: the file did not change
    message: str = ""  # the tool's reply
    sha256_after: str | None = None  # as recorded (own sessions)

    @property
    def new_lines(self) -> int:
        from sessions.ranges import content_lines

        return len(content_lines(self.content))

    @property
    def ranges_after(self) -> tuple[LineRange, ...]:
        return self.after.ranges if self.after is not None else ()

    @property
    def before_text(self) -> str | None:
        return self.before.text if self.before is not None else None

    @property
    def after_text(self) -> str | None:
        return self.after.text if self.after is not None else None

    def range_after(self) -> LineRange | None:
        """The editable range the edit happened in, as it is after the edit."""
        for r in self.ranges_after:
            if r.start <= self.start <= max(r.end, r.start):
                return r
        return None

    def summary(self) -> str:
        span = f"lines {self.start}-{self.end}" if self.end >= self.start else f"insert at line {self.start}"
        text = f"{self.file} {span} -> {self.new_lines} line(s)"
        if self.refused:
            return text + " (refused)"
        r = self.range_after()
        if self.applied and r is not None:
            text += f", editable range now {r}"
        return text

    def diff(self, context: int = 3) -> list[str]:
        """A unified diff of the editable region (with a little context).

        Without the file before and after, the agent's text is shown as
        added lines of the span it replaced.
        """
        if self.refused:
            return []
        if self.before is None or self.after is None:
            lines = self.content.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            count = self.end - self.start + 1
            head = f"@@ -{self.start},{max(count, 0)} +{self.start},{len(lines)} @@ (replaced lines not known)"
            return [head, *("+" + line for line in lines)]
        return region_diff(self.before, self.after, self.start, self.end, self.new_lines, self.file, context)


def region_diff(
    before: FileState, after: FileState, start: int, end: int, new_count: int, name: str, context: int = 3
) -> list[str]:
    """Unified diff of lines start..end of `before` against their replacement in `after`.

    Only the slices around the edit are compared (fast on long files and
    long replays); hunk line numbers are those of the whole file.
    """
    lo = max(0, start - 1 - context)
    old = before.lines[lo : end + context]
    new = after.lines[lo : start - 1 + new_count + context]
    out = []
    for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=context, lineterm=""):
        if line.startswith("@@"):
            line = _shift_hunk(line, lo)
        out.append(line)
    return out


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _shift_hunk(line: str, offset: int) -> str:
    m = _HUNK.match(line)
    if not m:
        return line
    a, b = int(m.group(1)) + offset, int(m.group(3)) + offset
    return f"@@ -{a}{m.group(2) or ''} +{b}{m.group(4) or ''} @@" + line[m.end() :]


@dataclass(kw_only=True)
class UndoStep(Step):
    kind: ClassVar[str] = UNDO
    count: int = 1
    # path -> (state before the undo, state after it); None where not known
    files: dict[str, tuple[FileState | None, FileState | None]] = field(default_factory=dict)
    message: str = ""
    refused: bool = False

    def summary(self) -> str:
        what = f"undo {self.count} edit" + ("s" if self.count != 1 else "")
        if self.refused:
            return what + " (refused)"
        if self.files:
            what += ": restored " + ", ".join(sorted(self.files))
        return what


@dataclass(kw_only=True)
class TestStep(Step):
    kind: ClassVar[str] = TEST
    n: int | None = None
    settings: list[SettingResult] = field(default_factory=list)
    budget_left: int | None = None
    status: str = UNKNOWN  # done | failed | partial | running | cancelled | unknown | no result
    text: str = ""  # the test's feedback as it was shown
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256 of the tested text
    extra: dict[str, str] = field(default_factory=dict)  # results not tied to a setting
    ended: str | None = None
    refused: bool = False

    __test__ = False  # not a pytest class

    def results(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s in self.settings:
            out.update(s.metrics)
        out.update(self.extra)
        return out

    def summary(self) -> str:
        name = f"test #{self.n}" if self.n is not None else "test"
        if self.refused:
            return f"{name} refused"
        parts = [name, self.status]
        if self.budget_left is not None:
            parts.append(f"{self.budget_left} left")
        return ", ".join(parts)


@dataclass(kw_only=True)
class SubmitStep(Step):
    kind: ClassVar[str] = SUBMIT
    n: int | None = None
    settings: list[SettingResult] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)  # the final table: metric -> value
    text: str = ""
    status: str = UNKNOWN
    ended: str | None = None
    refused: bool = False

    def summary(self) -> str:
        name = f"submit test #{self.n}" if self.n is not None else "submit"
        if self.refused:
            return name + " (refused)"
        return f"{name}, {self.status}" if self.status != UNKNOWN else name


@dataclass(kw_only=True)
class TextStep(Step):
    kind: ClassVar[str] = TEXT
    role: str = "note"  # user | assistant | thinking | tool | note
    title: str = ""
    text: str = ""

    def summary(self) -> str:
        first = next((line.strip() for line in self.text.splitlines() if line.strip()), "")
        if len(first) > 100:
            first = first[:99] + "…"
        head = f"{self.role}" + (f" ({self.title})" if self.title else "")
        return f"{head}: {first}" if first else head


@dataclass
class Replay:
    source: str  # session | agent-json | agent-text
    path: str
    task_id: str | None = None
    who: str | None = None  # the agent's model or the person
    title: str | None = None
    profile: str | None = None
    test_budget: int | None = None
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how it was built
    skipped: list[str] = field(default_factory=list)  # what was left out, and why
    meta: dict = field(default_factory=dict)

    def add(self, step: Step) -> Step:
        step.index = len(self.steps) + 1
        self.steps.append(step)
        return step

    @property
    def runs(self) -> int:
        return max((s.run for s in self.steps), default=1)

    def counts(self) -> Counter:
        return Counter(s.kind for s in self.steps)

    def of_kind(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]

    @property
    def submission(self) -> SubmitStep | None:
        subs = [s for s in self.steps if isinstance(s, SubmitStep) and not s.refused]
        return subs[-1] if subs else None

    @property
    def submitted_test(self) -> int | None:
        sub = self.submission
        return sub.n if sub is not None else None

    @property
    def final(self) -> dict[str, str]:
        sub = self.submission
        return dict(sub.final) if sub is not None else {}

    def split_runs(self) -> list[Replay]:
        """One replay per run (a file may hold several runs concatenated)."""
        out = []
        for run in range(1, self.runs + 1):
            part = Replay(
                self.source, self.path, self.task_id, self.who, self.title, self.profile,
                self.test_budget, notes=list(self.notes), meta=dict(self.meta, run=run),
            )
            part.steps = [s for s in self.steps if s.run == run]
            out.append(part)
        return out

    def iter_kind(self, kind: str) -> Iterator[Step]:
        return (s for s in self.steps if s.kind == kind)


def as_number(text: str | None) -> float:
    try:
        return float(text) if text is not None else math.nan
    except ValueError:
        return math.nan
