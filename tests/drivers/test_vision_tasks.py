"""The pytorch-vision family tasks added on top of the first two (issue 19):
each task's editable region at its published lines, its baselines, its
description, --check, and one demo epoch of every baseline on every setting
(hidden ones included), run as the engine runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.drivers import conftest as vt_module

# task id -> (editable object, the interface its description must state)
FAMILY = {
    "cv-classification-loss": ("compute_loss", "compute_loss(logits, targets, config)"),
    "dl-lr-schedule": ("get_lr", "get_lr(epoch, total_epochs, base_lr, config)"),
    "dl-regularization": ("compute_regularization",
                          "compute_regularization(model, inputs, outputs, targets, config)"),
    "dl-weight-initialization": ("initialize_weights", "initialize_weights(model, config)"),
    "cv-pooling-aggregation": ("CustomPool", "def forward(self, x):   # x: [B, C, H, W] -> [B, C]"),
    "dl-normalization": ("CustomNorm", "def __init__(self, num_features): ..."),
    "dl-residual-connection": ("CustomBlock", "def __init__(self, in_planes, planes, stride=1): ..."),
    "cv-data-augmentation": ("build_train_transform", "build_train_transform(config)"),
    "cv-sample-weighting": ("compute_class_weights",
                            "compute_class_weights(class_counts, num_classes, config)"),
    "optimization-gradient-compression": ("Compressor", "def compress(self, tensor, name):"),
}
TASK_IDS = sorted(FAMILY)
FACTS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pytorch-vision-family.json"


def _runs():
    return [(t, b, s) for t in TASK_IDS for b in vt_module.baselines(t)
            for s in vt_module.settings(t)]


def _region(vt, task):
    entry, start, end = vt.editable_file(vt.load_spec(task))
    lines = vt.driver_source(entry).read_text().splitlines(keepends=True)
    return entry, start, end, lines


@pytest.mark.parametrize("task", TASK_IDS)
def test_region_sits_between_its_markers_and_opens_with_the_object(vt, task):
    entry, start, end, lines = _region(vt, task)
    name, _ = FAMILY[task]
    assert lines[start - 2].startswith(f"# -- EDITABLE REGION START (lines {start}-{end}) ")
    assert lines[end].startswith(f"# -- EDITABLE REGION END (lines {start}-{end}) ")
    assert re.match(rf"(def|class) {name}\b", lines[start - 1])
    text = "".join(lines)
    assert text.count("EDITABLE REGION START") == 1 and text.count("EDITABLE REGION END") == 1


@pytest.mark.parametrize("task", TASK_IDS)
def test_region_is_at_the_published_lines(vt, task):
    if not FACTS.is_file():
        pytest.skip("the published facts (../shared/reference) are not here")
    facts = json.loads(FACTS.read_text())[task]
    entry, start, end, _ = _region(vt, task)
    assert entry["path"] == facts["file"]
    assert [[start, end]] == facts["editable"]


@pytest.mark.parametrize("task", TASK_IDS)
def test_default_baseline_is_the_scaffold_region_byte_for_byte(vt, task):
    _, start, end, lines = _region(vt, task)
    default = vt.load_spec(task)["baselines"][0]["name"]
    assert vt.baseline_text(task, default) == "".join(lines[start - 1:end])


@pytest.mark.parametrize("task", TASK_IDS)
def test_every_baseline_defines_the_object_and_compiles_in_the_scaffold(vt, tmp_path, task):
    name, _ = FAMILY[task]
    entry, _, _ = vt.editable_file(vt.load_spec(task))
    for baseline in vt.baselines(task):
        region = vt.baseline_text(task, baseline)
        assert re.match(rf"(def|class) {name}\b", region), baseline
        ws = vt.make_workspace(tmp_path / baseline, task, region)
        compile((ws / entry["path"]).read_text(), entry["path"], "exec")


@pytest.mark.parametrize("task", TASK_IDS)
def test_description_names_the_editable_object_and_its_interface(vt, task):
    spec = vt.load_spec(task)
    entry, start, end = vt.editable_file(spec)
    text = (vt.TASKS / task / spec["task"]["description"]).read_text()
    name, interface = FAMILY[task]
    assert f"`{name}`" in text
    assert interface in text
    assert f"lines {start}-{end}" in text and entry["path"] in text
    if any(s.get("hidden") for s in spec["settings"]):
        assert "hidden" in text


@pytest.mark.slow
@pytest.mark.parametrize("task, label", [(t, s) for t in TASK_IDS for s in vt_module.settings(t)])
def test_check_passes_on_every_setting(vt, tmp_path, task, label):
    ws = vt.make_workspace(tmp_path, task)
    proc = vt.run(vt.setting_argv(task, label, ws) + ["--check"], ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("CHECK OK: "), proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("task, baseline, label", _runs(),
                         ids=[f"{t}:{b}:{s}" for t, b, s in _runs()])
def test_every_baseline_runs_a_demo_epoch_on_every_setting(vt, tmp_path, task, baseline, label):
    ws = vt.make_workspace(tmp_path, task, vt.baseline_text(task, baseline))
    proc = vt.run(vt.setting_argv(task, label, ws) + vt.TINY, ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^TRAIN_PLAN unit=epoch total=1$", proc.stdout, re.M), proc.stdout
    (row,) = vt.parse_metrics(proc.stdout)
    assert row["epoch"] == 1 and 0.0 <= row["test_acc"] <= 100.0
    assert re.search(r"^FINAL_METRICS best_test_acc=\S+ best_epoch=1$", proc.stdout, re.M)


def test_gpu_check_stops_at_once_without_cuda(vt):
    """benchmarks/gpu_check.py with no CUDA device visible: exit 2 and one
    line saying so, before any work."""
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, str(vt.ROOT / "benchmarks" / "gpu_check.py")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("gpu_check: no CUDA device is visible"), proc.stderr
    assert proc.stdout == ""
