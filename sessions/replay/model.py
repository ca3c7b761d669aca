"""The replay model: an ordered list of steps, whatever the source.

A step is an edit (the file before and after, with the editable ranges
after), an undo, a test (per-setting output, metrics and status, and the
budget left after it), a submit (with the final table), or free text (an
agent's reasoning, a user message, a note). Every step keeps its time where
the source has one and the step number it had in the source.

File states are `FileState` objects shared between neighbouring steps (the
state after one edit is the state before the next), so a long replay holds
each version of a file once.

What other modules read (the leaderboard's agent rows among them):

- `Replay.split_runs()`: one `Replay` per run of a file holding several runs.
- `Replay.submission`, `.submitted_test`, `.final`: the run's submission (the
  last one not refused), the test number it picked, and its final table
  (metric -> value as printed). A test whose result carried `[auto-submit]`
  is followed by a `SubmitStep` with `auto=True`, so it counts here too;
  `Replay.auto_submitted` says so.
- `Replay.last_tested`: the number of the last test that ran (for a run with
  no submission).
- `Replay.tested_files(n)`: path -> `FileState` of the files test n ran on,
  or None where the replay does not know their text exactly (a cut edit, an
  edit that could not be re-applied, a run whose start is not in the file).
- `EditStep.after` and `.exact`: the whole file after an edit, and whether
  that text is the agent's exactly (no placeholders for lost text).
- `Replay.counts()`: steps by kind, refused calls left out (they spent and
  changed nothing); `Replay.refused()` lists those calls.
- `Replay.run_start`: run -> the files as each run began (the scaffold),
  None for a file whose text is not known then.
- `Replay.cut()`: the steps whose text the source cut short, with the note
  saying what was cut (each such note contains `CUT`).
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import ClassVar, Iterator

from sessions.ranges import content_lines
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
CUT = "cut short"  # in a step's note: the source lost part of the step's text


@dataclass
class SettingResult:
    label: str
    status: str = UNKNOWN
    metrics: dict[str, str] = field(default_factory=dict)  # named results, values as printed
    values: dict[str, str] = field(default_factory=dict)  # other key=value pairs the setting reported
    output: str = ""  # the setting's output text (log tail, or the block the agent saw)
    curve: list[dict[str, float]] | None = None  # TRAIN_METRICS rows of its metrics channel; None: read the output
    exit_code: int | None = None
    script: str | None = None
    detail: str = ""
    hidden: bool = False
    started: str | None = None
    ended: str | None = None
    seeds: dict[str, dict[str, str]] = field(default_factory=dict)  # seed -> its metrics; `metrics` is their mean


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
    op: str = "replace"  # the tool's op: replace | insert | delete | create

    @cached_property
    def new_lines(self) -> int:
        """How many lines the edit's text has (what replaced start..end)."""
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
        if self.file == "?":
            text = "edit of an unnamed file"
        elif self.op == "create":
            text = f"create {self.file}, {self.new_lines} line(s)"
        else:
            span = f"lines {self.start}-{self.end}" if self.end >= self.start else f"insert at line {self.start}"
            text = f"{self.file} {span} -> {self.new_lines} line(s)"
        if self.refused:
            return text + " (refused)"
        r = self.range_after()
        if self.applied and r is not None:
            text += f", editable range now {r}"
        return text

    def diff(self, context: int = 3, prefix: str = "") -> list[str]:
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
            head = f"{prefix}@@ -{self.start},{max(count, 0)} +{self.start},{len(lines)} @@ (replaced lines not known)"
            return [head, *[prefix + "+" + line for line in lines]]
        return region_diff(self.before, self.after, self.start, self.end, self.new_lines, self.file, context, prefix)


def region_diff(
    before: FileState, after: FileState, start: int, end: int, new_count: int, name: str, context: int = 3,
    prefix: str = "",
) -> list[str]:
    """Unified diff of lines start..end of `before` against their replacement in `after`.

    Everything outside that span is the same in both files, so only the span
    is compared (fast on long files and long replays): a common head and
    tail are trimmed, and what is left is matched line by line only when
    the two sides share a line. Hunk line numbers are those of the whole file.
    """
    a_lines, b_lines = before.lines, after.lines
    lo, a_hi, b_hi = start - 1, end, start - 1 + new_count
    while lo < a_hi and lo < b_hi and a_lines[lo] == b_lines[lo]:
        lo += 1
    while a_hi > lo and b_hi > lo and a_lines[a_hi - 1] == b_lines[b_hi - 1]:
        a_hi, b_hi = a_hi - 1, b_hi - 1
    if lo == a_hi and lo == b_hi:
        return []
    old, new = a_lines[lo:a_hi], b_lines[lo:b_hi]
    if old and new and not set(old).isdisjoint(new):
        ops = [
            (tag, lo + i1, lo + i2, lo + j1, lo + j2)
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        ]
    else:
        ops = [("replace", lo, a_hi, lo, b_hi)]
    # Group into hunks as difflib does: equal runs longer than 2 * context split hunks.
    hunks: list[list[tuple]] = [[]]
    for op in ops:
        tag, i1, i2, j1, j2 = op
        if tag == "equal" and i2 - i1 > 2 * context and hunks[-1]:
            hunks[-1].append(("equal", i1, i1 + context, j1, j1 + context))
            hunks.append([("equal", i2 - context, i2, j2 - context, j2)])
        else:
            hunks[-1].append(op)
    out = [f"{prefix}--- a/{name}", f"{prefix}+++ b/{name}"]
    same, minus, plus = prefix + " ", prefix + "-", prefix + "+"
    for hunk in hunks:
        if not any(op[0] != "equal" for op in hunk):
            continue
        first, last = hunk[0], hunk[-1]
        a0, b0 = max(0, first[1] - context), max(0, first[3] - context)
        a1, b1 = min(len(a_lines), last[2] + context), min(len(b_lines), last[4] + context)
        if first[0] == "equal":
            a0, b0 = first[1], first[3]
        if last[0] == "equal":
            a1, b1 = last[2], last[4]
        out.append(f"{prefix}@@ -{_range(a0, a1)} +{_range(b0, b1)} @@")
        if first[0] != "equal":
            out += [same + line for line in a_lines[a0 : first[1]]]
        for tag, i1, i2, j1, j2 in hunk:
            if tag == "equal":
                out += [same + line for line in a_lines[i1:i2]]
                continue
            out += [minus + line for line in a_lines[i1:i2]]
            out += [plus + line for line in b_lines[j1:j2]]
        if last[0] != "equal":
            out += [same + line for line in a_lines[last[2] : a1]]
    return out


def _range(lo: int, hi: int) -> str:
    """A unified-diff range for 0-based lines lo..hi (exclusive), as difflib writes it."""
    length = hi - lo
    if length == 1:
        return str(lo + 1)
    return f"{lo if length == 0 else lo + 1},{length}"


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
        took = duration(self.time, self.ended)
        if took:
            parts.append(took)
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
    auto: bool = False  # the harness submitted the last test when the budget ran out

    def summary(self) -> str:
        name = f"submit test #{self.n}" if self.n is not None else "submit"
        if self.auto:
            name = "auto-" + name
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
    run_start: dict[int, dict[str, FileState | None]] = field(default_factory=dict)
    _files_cache: list | None = field(default=None, init=False, repr=False, compare=False)

    def add(self, step: Step) -> Step:
        step.index = len(self.steps) + 1
        self.steps.append(step)
        return step

    @property
    def runs(self) -> int:
        return max((s.run for s in self.steps), default=1)

    def counts(self) -> Counter:
        """Steps by kind; a refused call spent and changed nothing, so it is not counted."""
        return Counter(s.kind for s in self.steps if not getattr(s, "refused", False))

    def refused(self) -> list[Step]:
        return [s for s in self.steps if getattr(s, "refused", False)]

    def cut(self) -> list[tuple[Step, str]]:
        """(step, note) for each step whose text the source cut short (a prompt, a tool input, a result)."""
        return [(s, note) for s in self.steps for note in s.notes if CUT in note]

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
    def auto_submitted(self) -> bool:
        sub = self.submission
        return sub is not None and sub.auto

    @property
    def final(self) -> dict[str, str]:
        sub = self.submission
        return dict(sub.final) if sub is not None else {}

    def tests(self) -> list[TestStep]:
        """The tests that ran (refused calls left out)."""
        return [s for s in self.steps if isinstance(s, TestStep) and not s.refused and s.n is not None]

    @staticmethod
    def _is_test(step: Step, n: int) -> bool:
        return isinstance(step, TestStep) and not step.refused and step.n == n

    @property
    def last_tested(self) -> int | None:
        tests = self.tests()
        return tests[-1].n if tests else None

    def tested_files(self, n: int) -> dict[str, FileState] | None:
        """The files test n ran on (its last test n, in a file of several runs), or None.

        None when there is no such test or a file's text then is not exactly
        known.
        """
        # by position in this replay: the steps of a run split off keep the indexes of the whole file
        at = next((i for i in range(len(self.steps), 0, -1) if self._is_test(self.steps[i - 1], n)), None)
        if at is None:
            return None
        files = self.files_at(at)
        inexact = {id(s.after) for s in self.steps if isinstance(s, EditStep) and s.after is not None and not s.exact}
        if not files or any(state is None or id(state) in inexact for state in files.values()):
            return None
        return dict(files)  # type: ignore[arg-type]

    def split_runs(self) -> list[Replay]:
        """One replay per run (a file may hold several runs concatenated)."""
        out = []
        for run in range(1, self.runs + 1):
            part = Replay(
                self.source, self.path, self.task_id, self.who, self.title, self.profile,
                self.test_budget, notes=list(self.notes), meta=dict(self.meta, run=run),
            )
            part.steps = [s for s in self.steps if s.run == run]
            if run in self.run_start:
                part.run_start = {run: dict(self.run_start[run])}
            out.append(part)
        return out

    def iter_kind(self, kind: str) -> Iterator[Step]:
        return (s for s in self.steps if s.kind == kind)

    def files_at(self, index: int) -> dict[str, FileState | None]:
        """The files as they are after step `index` (from 1; 0 is before the first step).

        For a view that steps through the replay: each run starts from
        `run_start` (the scaffold, where the source gave it) and the files
        as its first edits found them, and edits and undos change them;
        None where the replay does not know a file's text then.
        """
        if self._files_cache is None or len(self._files_cache) != len(self.steps) + 1:
            initial: dict[int, dict[str, FileState | None]] = {run: dict(files) for run, files in self.run_start.items()}
            for step in self.steps:
                if isinstance(step, EditStep) and not step.refused:
                    initial.setdefault(step.run, {}).setdefault(step.file, step.before)
            run = self.steps[0].run if self.steps else 1
            states = dict(initial.get(run, {}))
            cache = [dict(states)]
            for step in self.steps:
                if step.run != run:
                    run, states = step.run, dict(initial.get(step.run, {}))
                if isinstance(step, EditStep) and not step.refused:
                    states[step.file] = step.after if step.applied else None
                elif isinstance(step, UndoStep):
                    for path, (_, after) in step.files.items():
                        states[path] = after
                cache.append(dict(states))
            self._files_cache = cache
        return self._files_cache[max(0, min(index, len(self.steps)))]


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def duration(start: str | None, end: str | None) -> str:
    """'2m13s' between two ISO times, or '' when either is missing or unreadable."""
    a, b = _when(start), _when(end)
    if a is None or b is None or (a.tzinfo is None) != (b.tzinfo is None):
        return ""
    seconds = int(round((b - a).total_seconds()))
    if seconds < 0:
        return ""
    h, rest = divmod(seconds, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


def as_number(text: str | None) -> float:
    try:
        return float(text) if text is not None else math.nan
    except ValueError:
        return math.nan
