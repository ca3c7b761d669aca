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
    """Every (task, baseline, setting): 117 one-epoch demo runs of 2-13 s each (87 of
    them took 13.6 minutes on one test worker while two re-scores kept a 2-core machine busy)."""
    return [pytest.param(t, b, s, id=f"{t}:{b}:{s}")
            for t in TASK_IDS for b in vt_module.baselines(t) for s in vt_module.settings(t)]


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
@pytest.mark.parametrize("task, baseline, label", _runs())
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


# ---------------------------------------------------------------------------
# The family pieces in vision_family (fast)
# ---------------------------------------------------------------------------

def test_long_tail_profile_gives_the_usual_cifar_lt_sizes(vf):
    assert sum(vf.long_tail_counts(5000, 10, 100)) == 12406
    assert sum(vf.long_tail_counts(500, 100, 100)) == 10847
    counts = vf.long_tail_counts(500, 100, 50)
    assert counts[0] == 500 and counts[-1] == 10 and counts == sorted(counts, reverse=True)


def test_long_tail_keeps_the_first_images_of_each_class_in_order(vf):
    import torch
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    split = vf.Split(torch.arange(12, dtype=torch.uint8).view(12, 1, 1, 1), labels)
    kept = vf.long_tail(split, 3, 4.0, n_max=4)          # counts 4, 2, 1
    assert kept.labels.tolist() == [0, 1, 2, 0, 1, 0, 0]
    assert kept.images.flatten().tolist() == [0, 1, 2, 3, 4, 6, 9]


@pytest.mark.parametrize("dataset, ratio", [("cifar10", 100), ("cifar100", 100), ("cifar100", 50)])
def test_demo_long_tail_keeps_the_profile_and_every_class(vf, dataset, ratio):
    import argparse
    for train_size in (None, 96):
        args = argparse.Namespace(profile="demo", arch="resnet32", dataset=dataset,
                                  train_size=train_size, test_size=200, data_root="",
                                  download=False)
        data = vf.load_family_data(args, imbalance_ratio=ratio)
        counts = vf.class_counts(data.train, data.info.num_classes)
        assert min(counts) >= 1 and counts == sorted(counts, reverse=True)
        n_max = counts[0]
        assert counts == vf.long_tail_counts(n_max, data.info.num_classes, ratio)
        test = vf.class_counts(data.test, data.info.num_classes)
        assert max(test) - min(test) <= 1          # balanced test set


@pytest.mark.parametrize("arch, classes, params", [
    ("resnet20", 10, 269_722), ("resnet32", 10, 464_154), ("resnet56", 10, 853_018),
    ("resnet110", 10, 1_727_962), ("vgg11bn", 100, 9_802_596)])
def test_family_networks_have_their_published_sizes(vf, arch, classes, params):
    assert vf.count_params(vf.build_family_model(arch, classes)) == params


@pytest.mark.parametrize("arch, in_channels", [("resnet20", 3), ("vgg16bn", 3),
                                               ("mobilenetv2", 1)])
def test_pooled_net_with_average_pooling_is_the_network_itself(vf, arch, in_channels):
    import torch

    class Average(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    torch.manual_seed(0)
    net = vf.build_family_model(arch, 10, in_channels).eval()
    x = torch.randn(2, in_channels, 32, 32)
    with torch.no_grad():
        assert torch.allclose(vf.PooledNet(net, Average())(x), net(x), atol=1e-5)


def test_block_resnet_follows_the_block_expansion(vf):
    import torch
    import torch.nn as nn

    class Wide(nn.Module):
        expansion = 4

        def __init__(self, in_planes, planes, stride):
            super().__init__()
            self.conv = nn.Conv2d(in_planes, planes * 4, 3, stride, 1)

        def forward(self, x):
            return self.conv(x)

    net = vf.BlockResNet(20, 10, Wide)
    assert net.head.in_features == 256
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_replace_modules_swaps_every_batchnorm(vf):
    import torch.nn as nn
    net = vf.build_family_model("resnet20", 10)
    n = sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert vf.replace_modules(net, nn.BatchNorm2d, lambda bn: nn.GroupNorm(1, bn.num_features)) == n
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())


def test_compressed_step_with_lossless_compressors_is_the_plain_step(vf):
    """Equal shards, compressors that send the gradient as it is: the
    averaged gradient is the full batch's, so both models end equal; and
    every message is seen by on_sent."""
    import copy
    import torch
    import torch.nn as nn

    class Lossless:
        def compress(self, tensor, name):
            return [tensor.clone()], None

        def decompress(self, sent, ctx):
            return sent[0]

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    twin = copy.deepcopy(model)
    x, y = torch.randn(8, 3, 2, 2), torch.arange(8) % 5
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    messages = []
    loss, out = vf.compressed_data_parallel_step(model, x, y, opt, [Lossless()] * 4,
                                                 lambda sent, grad: messages.append(sent))
    twin_loss = nn.functional.cross_entropy(twin(x), y)
    twin_opt.zero_grad()
    twin_loss.backward()
    twin_opt.step()
    assert loss.item() == pytest.approx(twin_loss.item(), rel=1e-5)
    assert out.shape == (8, 5) and len(messages) == 4 * 2
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_compressed_step_refuses_a_wrong_shape(vf):
    import torch
    import torch.nn as nn

    class Flattening:
        def compress(self, tensor, name):
            return [tensor.flatten()], None

        def decompress(self, sent, ctx):
            return sent[0]

    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"rebuild 1.weight's gradient of shape \(5, 12\)"):
        vf.compressed_data_parallel_step(model, torch.randn(4, 3, 2, 2), torch.arange(4),
                                         opt, [Flattening()] * 2)
