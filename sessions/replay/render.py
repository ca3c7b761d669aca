"""Plain-text rendering of a replay: what `mlsbench-tui replay --print PATH` prints.

One block per step: its index, time, kind (icon and word), summary, and
source step; then the edit's diff of the editable region, or the test's
per-setting results; the final table at the end.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Iterator, TextIO

from sessions.replay.model import (
    EditStep,
    Replay,
    SettingResult,
    Step,
    SubmitStep,
    TestStep,
    TextStep,
    UndoStep,
)

INDENT = "    "
TEXT_LINES = 6  # of free text shown per step
FAILED_TAIL = 6  # lines of a failed setting's output
LINE_MAX = 240  # characters of one quoted output line (flattened transcripts have very long ones)


def _time(step: Step) -> str:
    if not step.time:
        return ""
    t = step.time.replace("T", " ")
    # 2025-01-01 10:00:03.123+00:00 -> 2025-01-01 10:00:03
    return t[:19]


def _head(step: Step, width: int, source_label: str = "source step") -> str:
    parts = [f"#{step.index:<{width}}"]
    when = _time(step)
    if when:
        parts.append(when)
    parts.append(f"{step.icon} {step.kind:<6}")
    parts.append(step.summary())
    if step.source_step is not None:
        parts.append(f"[{source_label} {step.source_step}]")
    return "  ".join(parts)


def _setting_lines(s: SettingResult) -> list[str]:
    tag = " (hidden)" if s.hidden else ""
    head = f"{s.label}{tag}: {s.status}"
    if s.exit_code not in (None, 0) or s.status == "failed":
        head += f" (exit {s.exit_code})" if s.exit_code is not None else ""
    if s.metrics:
        head += "  " + " ".join(f"{k}={v}" for k, v in s.metrics.items())
        if s.seeds:
            head += f" (mean of {len(s.seeds)} seeds)"
    elif s.values:
        head += "  last reported: " + " ".join(f"{k}={v}" for k, v in list(s.values.items())[:6])
    out = [head]
    for seed, metrics in s.seeds.items():
        out.append(f"{INDENT}seed {seed}: " + (" ".join(f"{k}={v}" for k, v in metrics.items()) or "no result"))
    if s.detail and s.status != "done":
        out.append(INDENT + s.detail)
    if s.status == "failed" and s.output:
        tail = [line for line in s.output.strip("\n").split("\n") if line.strip()][-FAILED_TAIL:]
        out += [INDENT + "| " + (line if len(line) <= LINE_MAX else line[: LINE_MAX - 1] + "…") for line in tail]
    return out


def _table(final: dict[str, str], indent: str = INDENT) -> list[str]:
    if not final:
        return [indent + "(no results)"]
    width = max(len(k) for k in final)
    return [f"{indent}{k:<{width}}  {v}" for k, v in final.items()]


def step_lines(step: Step, width: int = 3, source_label: str = "source step") -> list[str]:
    """The printed block of one step (the replay screen may use it for its log)."""
    out = [_head(step, width, source_label)]
    if isinstance(step, EditStep):
        diff = step.diff(prefix=INDENT)
        if not diff and not step.refused:
            out.append(INDENT + "(no change: the lines already read so)")
        out += diff
    elif isinstance(step, UndoStep):
        pass
    elif isinstance(step, TestStep):
        for s in step.settings:
            out += [INDENT + line for line in _setting_lines(s)]
        for k, v in step.extra.items():
            out.append(f"{INDENT}{k}={v}")
    elif isinstance(step, SubmitStep):
        for s in step.settings:
            if s.hidden:
                out.extend(INDENT + line for line in _setting_lines(s))
        if step.final:
            out.append(INDENT + "final results:")
            out.extend(_table(step.final, INDENT * 2))
    elif isinstance(step, TextStep):
        lines = [line for line in step.text.split("\n") if line.strip()]
        shown = lines[1 : 1 + TEXT_LINES]
        out.extend(INDENT + line for line in shown)
        if len(lines) > 1 + TEXT_LINES:
            out.append(f"{INDENT}… ({len(lines) - 1 - TEXT_LINES} more lines)")
    if step.notes:
        out += [f"{INDENT}note: {note}" for note in step.notes]
    return out


def header_lines(replay: Replay) -> list[str]:
    kind = {"session": "session", "agent-json": "agent conversation (JSON)", "agent-text": "agent transcript"}.get(
        replay.source, replay.source
    )
    who = f" by {replay.who}" if replay.who else ""
    out = [f"Replay of {kind}{who}: {replay.path}"]
    task = replay.task_id or "unknown task"
    if replay.title:
        task += f" — {replay.title}"
    out.append(f"Task: {task}" + (f"   profile: {replay.profile}" if replay.profile else ""))
    counts = replay.counts()
    summary = ", ".join(f"{counts.get(k, 0)} {k}{'s' if counts.get(k, 0) != 1 else ''}" for k in ("edit", "undo", "test", "submit"))
    runs = f" in {replay.runs} runs" if replay.runs > 1 else ""
    out.append(f"{len(replay.steps)} steps{runs}: {summary}")
    refused = Counter(s.kind for s in replay.refused())
    if refused:
        calls = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in refused.items())
        out.append(f"  not counted: {sum(refused.values())} refused call(s) that spent and changed nothing ({calls})")
    out.extend(f"  {note}" for note in replay.notes)
    return out


def format_replay(replay: Replay) -> Iterator[str]:
    yield from header_lines(replay)
    width = len(str(len(replay.steps)))
    runs, run = replay.runs, 0
    label = "journal entry" if replay.source == "session" else "source step"
    for step in replay.steps:
        if runs > 1 and step.run != run:
            run = step.run
            yield ""
            yield f"── run {run} " + "─" * 40
        yield ""
        yield from step_lines(step, width, label)
    yield ""
    subs = [s for s in replay.steps if isinstance(s, SubmitStep) and not s.refused]
    if replay.runs > 1 and len(subs) > 1:
        for sub in subs:
            yield f"Final results of run {sub.run} (submitted test #{sub.n}):"
            yield from _table(sub.final)
    elif subs:
        if subs[-1].auto:
            yield "The last test was submitted by the harness when the test budget ran out ([auto-submit])."
        yield f"Final results (submitted test #{subs[-1].n}):"
        yield from _table(subs[-1].final)
    else:
        yield "No submission: there is no final table."
    if replay.skipped:
        yield ""
        yield f"Skipped or incomplete ({len(replay.skipped)}):"
        yield from (f"  - {reason}" for reason in replay.skipped)


def write_replay(replay: Replay, stream: TextIO | None = None, batch: int = 2000) -> int:
    """Write format_replay's lines to a stream (stdout by default) in batches; returns the line count.

    Much faster than a print() per line for long replays.
    """
    stream = stream or sys.stdout
    count, chunk = 0, []
    for line in format_replay(replay):
        chunk.append(line)
        if len(chunk) >= batch:
            stream.write("\n".join(chunk) + "\n")
            count += len(chunk)
            chunk = []
    if chunk:
        stream.write("\n".join(chunk) + "\n")
        count += len(chunk)
    return count
