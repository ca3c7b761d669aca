"""A task's shipped re-scored reference: `tasks/<id>/reference-<profile>.json`.

`mlsbench-tui rescore --write-reference` writes it from the results store:
the scaffold default, every baseline and each agent given, re-scored on one
profile and seed, with the command that made it, the package versions and
the date, so that a fresh clone has opponents on profiles without published
numbers (`demo`). Entries whose fixed hash differs from the task's current
one were measured on other fixed files and are not read back.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from sessions.errors import Refused
from sessions.rescore_candidates import Name, fixed_hash
from sessions.rescore_store import Curve, StoredResult
from sessions.store import write_json
from sessions.versions import package_versions
from tasks.spec import TaskSpec

CURVE_POINTS = 200  # rows kept per setting curve in the shipped file (evenly spaced, last kept)


def reference_path(task: TaskSpec, profile: str) -> Path:
    return task.folder / f"reference-{profile}.json"


def machine() -> dict[str, object]:
    """What demo training's float results depend on: CPU threads change the summation order."""
    return {"arch": platform.machine(), "system": platform.system(), "cpu_count": os.cpu_count(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}


def thin(curve: Curve, points: int = CURVE_POINTS) -> Curve:
    if len(curve) <= points:
        return curve
    step = (len(curve) - 1) / (points - 1)
    return [curve[round(i * step)] for i in range(points)]


def write_reference(task: TaskSpec, profile: str, seed: int, results: Iterable[StoredResult], command: str) -> Path:
    path = reference_path(task, profile)
    write_json(path, {
        "source": "re-scored with the same engine and drivers as a session test",
        "command": command,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "machine": machine(),
        "task": task.id, "profile": profile, "seed": seed, "fixed_hash": fixed_hash(task),
        "metrics": task.metric_directions(),
        "entries": [{
            "names": [n.__dict__ for n in r.names], "region_hash": r.region_hash, "status": r.status,
            "results": r.results, "settings": r.settings, "finished_at": r.finished_at,
            "curves": {label: thin(curve) for label, curve in r.curves().items()},
        } for r in results],
    })
    return path


def read_reference(task: TaskSpec, profile: str) -> list[StoredResult]:
    """The shipped entries still valid for the task's fixed files; [] when there is no file."""
    path = reference_path(task, profile)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return []
    except ValueError as exc:
        raise Refused(f"{path} is not valid JSON ({exc}); regenerate it with `mlsbench-tui rescore "
                         "--baselines --write-reference`") from None
    if raw.get("fixed_hash") != fixed_hash(task):
        return []
    return [StoredResult(
        dir=path, task_id=task.id, profile=profile, seed=int(raw["seed"]), fixed_hash=raw["fixed_hash"],
        region_hash=e["region_hash"], names=tuple(Name(**n) for n in e["names"]), status=e["status"],
        results=dict(e["results"]), settings=dict(e["settings"]), finished_at=e.get("finished_at", ""),
        curve_data=e.get("curves", {}),
    ) for e in raw.get("entries", [])]
