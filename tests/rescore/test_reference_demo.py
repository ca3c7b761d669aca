"""The shipped demo references (`tasks/<id>/reference-demo.json`) are current and reproducible.

Measured here (2-core CPU): re-running the same demo setting gives identical
metrics, bit for bit (bilevel toy and hyper-cleaning, with 1 or 2 threads; the
ResNet-20 multi-task run twice, at different machine load). The slow test still
allows REL_TOL: the drivers do not pin the thread count, and another CPU or
thread count may sum floats in another order, which can flip a few test
images' predictions (one image of a demo test set is a fraction of a point).
"""

from __future__ import annotations

import json
import math
import sys

import pytest

from sessions.rescore import Rescorer
from sessions.rescore_candidates import DEFAULT, baseline_candidate, baseline_candidates, fixed_hash
from sessions.rescore_reference import reference_path
from sessions.rescore_store import ResultsStore
from tasks import Catalog

REL_TOL = 0.01


def shipped_tasks():
    catalog = Catalog()
    tasks = [catalog.get(task_id) for task_id in catalog.entries if catalog.entries[task_id].error is None]
    return [t for t in tasks if reference_path(t, "demo").is_file()]


def regenerate(task) -> str:
    return (f"regenerate it: mlsbench-tui rescore --task {task.id} --profile demo --seed 42 --baselines "
            "--agents ../shared/seeds --write-reference")


@pytest.mark.parametrize("task", shipped_tasks(), ids=lambda t: t.id)
def test_the_shipped_demo_reference_is_current_and_complete(task):
    raw = json.loads(reference_path(task, "demo").read_text(encoding="utf-8"))
    assert raw["fixed_hash"] == fixed_hash(task), f"{task.id}: the scaffold or commands changed; {regenerate(task)}"
    assert raw["profile"] == "demo" and raw["seed"] == 42 and raw["command"].startswith("mlsbench-tui ")
    assert {"date", "versions", "metrics"} <= set(raw)
    names = {n["entry"] for entry in raw["entries"] for n in entry["names"]}
    wanted = {DEFAULT, *(f"baseline:{b.name}" for b in task.baselines)}
    assert wanted <= names, f"{task.id}: missing {sorted(wanted - names)}; {regenerate(task)}"
    for entry in raw["entries"]:
        assert set(entry["results"]) == set(task.metric_directions()), entry["names"]


@pytest.mark.slow
@pytest.mark.parametrize("task", shipped_tasks(), ids=lambda t: t.id)
def test_rescoring_one_baseline_on_demo_reproduces_the_shipped_numbers(task, tmp_path):
    raw = json.loads(reference_path(task, "demo").read_text(encoding="utf-8"))
    candidate = baseline_candidates(task)[-1]  # a baseline other than the scaffold default
    shipped = next(e for e in raw["entries"] if e["region_hash"] == candidate.region_hash(task))
    rescorer = Rescorer(task, ResultsStore(tmp_path / "results"), profile="demo", seed=42,
                        data_root=tmp_path / "data", python=sys.executable)
    result = rescorer.rescore(baseline_candidate(task, candidate.name.entry.removeprefix("baseline:"))).result
    assert result.status == shipped["status"] == "done"
    for name, value in shipped["results"].items():
        assert math.isclose(float(result.results[name]), float(value), rel_tol=REL_TOL), (
            f"{candidate.name.entry} {name}: re-scored {result.results[name]}, shipped {value}")
