"""A task's `[profiles.demo] plan` (the line the app's target banner shows on demo) says
what the driver really trains there: its epochs, batch, learning rate and every setting's
generated-image count."""

from __future__ import annotations

import re

import pytest

from tasks.catalog import Catalog
from tests.drivers.conftest import TASKS


def demo_plans():
    specs = [entry.spec for entry in Catalog([TASKS]).entries.values() if entry.spec is not None]
    return [task for task in specs if task.profiles["demo"].plan and "pytorch-vision/" in task.settings[0].command]


@pytest.mark.parametrize("task", demo_plans(), ids=lambda t: t.id)
def test_the_demo_plan_matches_the_vision_driver(task):
    import vision_common
    import vision_family

    plan = task.profiles["demo"].plan
    proto = vision_common.protocol("demo")
    assert f"{proto.epochs} epochs" in plan and f"batch {proto.batch_size}" in plan and f"lr {proto.lr:g}" in plan
    archs = [re.search(r"--arch (\S+)", s.command).group(1) for s in task.settings]
    sizes = {f"{vision_family.family_demo_sizes(arch)[0]:,}" for arch in archs}
    assert sizes <= set(re.findall(r"\d[\d,]*", plan)), f"{task.id}: {plan!r} should give {sorted(sizes)} images"


def test_both_seed_vision_tasks_have_a_demo_plan():
    assert {t.id for t in demo_plans()} >= {"cv-multitask-loss", "dl-activation-function"}
