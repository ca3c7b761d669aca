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
    sizes = {f"{demo_train_images(vision_family, setting.command):,}" for setting in task.settings}
    assert sizes <= set(re.findall(r"\d[\d,]*", plan)), f"{task.id}: {plan!r} should give {sorted(sizes)} images"


def demo_train_images(vision_family, command: str) -> int:
    """How many training images a demo run of the setting's command generates (a long-tailed
    set keeps the real profile from LT_N_MAX images of its first class)."""
    arch = re.search(r"--arch (\S+)", command).group(1)
    ratio = re.search(r"--imbalance-ratio (\S+)", command)
    if ratio is None:
        return vision_family.family_demo_sizes(arch)[0]
    dataset = re.search(r"--dataset (\S+)", command).group(1)
    classes = vision_family.DATASETS[dataset].num_classes
    n_max = vision_family.LT_N_MAX[(dataset, True)]
    return sum(vision_family.long_tail_counts(n_max, classes, float(ratio.group(1))))


def test_every_vision_task_has_a_demo_plan():
    vision = {entry.spec.id for entry in Catalog([TASKS]).entries.values()
              if entry.spec is not None and "pytorch-vision/" in entry.spec.settings[0].command}
    assert len(vision) == 12 and {t.id for t in demo_plans()} == vision
