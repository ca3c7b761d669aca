"""A replay as JSON: what `mlsbench-tui replay --json PATH` prints.

    {"source": ..., "path": ..., "task_id": ..., "who": ..., "runs": 2,
     "counts": {"edit": 3, "undo": 1, "test": 3, "submit": 1, "refused": 2},
     "submissions": [{"run": 1, "submitted_test": 2, "auto_submitted": false,
                      "last_tested": 3, "final": {...}}, ...],
     "steps": [{"index": 1, "run": 1, "kind": "edit", "summary": ..., ...}, ...],
     "notes": [...], "skipped": [...]}

Counts leave refused calls out (they are counted apart), as the printed
summary does. Metric values stay strings, as printed in the source.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sessions.replay.model import EditStep, Replay, SettingResult, Step, SubmitStep, TestStep, TextStep, UndoStep


def _setting(s: SettingResult) -> dict[str, Any]:
    out = asdict(s)
    out.pop("output")  # the log text: long, and in the step's `text`
    return out


def step_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": step.index, "run": step.run, "kind": step.kind, "time": step.time,
        "source_step": step.source_step, "summary": step.summary(), "notes": list(step.notes),
    }
    if isinstance(step, EditStep):
        out.update(file=step.file, op=step.op, start=step.start, end=step.end, content=step.content,
                   new_lines=step.new_lines, applied=step.applied, exact=step.exact, refused=step.refused,
                   message=step.message, ranges_after=[[r.start, r.end] for r in step.ranges_after])
    elif isinstance(step, UndoStep):
        out.update(count=step.count, refused=step.refused, files=sorted(step.files), message=step.message)
    elif isinstance(step, TestStep):
        out.update(n=step.n, status=step.status, budget_left=step.budget_left, refused=step.refused,
                   results=step.results(), settings=[_setting(s) for s in step.settings], ended=step.ended,
                   text=step.text)
    elif isinstance(step, SubmitStep):
        out.update(n=step.n, status=step.status, auto=step.auto, refused=step.refused, final=dict(step.final),
                   settings=[_setting(s) for s in step.settings], ended=step.ended, text=step.text)
    elif isinstance(step, TextStep):
        out.update(role=step.role, title=step.title, text=step.text)
    return out


def replay_dict(replay: Replay) -> dict[str, Any]:
    counts = replay.counts()
    return {
        "source": replay.source, "path": replay.path, "task_id": replay.task_id, "title": replay.title,
        "who": replay.who, "profile": replay.profile, "test_budget": replay.test_budget, "runs": replay.runs,
        "counts": {kind: counts.get(kind, 0) for kind in ("edit", "undo", "test", "submit")}
        | {"refused": len(replay.refused())},
        "submissions": [
            {"run": part.meta["run"], "submitted_test": part.submitted_test, "auto_submitted": part.auto_submitted,
             "last_tested": part.last_tested, "final": part.final}
            for part in replay.split_runs()
        ],
        "steps": [step_dict(s) for s in replay.steps],
        "notes": list(replay.notes),
        "skipped": list(replay.skipped),
    }
