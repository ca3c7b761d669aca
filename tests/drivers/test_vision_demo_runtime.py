"""The demo profile on the CPU computes the same way everywhere: one thread
per setting, deterministic algorithms, both recorded in the log; a run ends
with its cost and the digest of its final weights, and two runs of the same
region end bit-identical."""

from __future__ import annotations

import re

import pytest
import torch

TASK, LABEL = "cv-multitask-loss", "resnet20-cifar100mt"
DIGEST_RE = re.compile(r"^done: training took [\d.]+ s wall, the process [\d.]+ s CPU; "
                       r"final weights sha256 ([0-9a-f]{16})$", re.M)


def test_demo_on_the_cpu_fixes_threads_and_determinism(vc):
    torch.set_num_threads(2)
    device = vc.pick_device("cpu", "demo")
    assert torch.get_num_threads() == vc.DEMO_CPU_THREADS == 1
    assert torch.are_deterministic_algorithms_enabled()
    assert vc.runtime_note(device) == "device=cpu threads=1 deterministic"


def test_other_profiles_keep_the_machines_threads(vc):
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(False)
    device = vc.pick_device("cpu", "paper")
    assert torch.get_num_threads() == 2
    assert not torch.are_deterministic_algorithms_enabled()
    assert vc.runtime_note(device) == "device=cpu threads=2"


def test_weights_digest_sees_every_bit_and_every_module(vc):
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)
    digest = vc.weights_digest(a, b)
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert vc.weights_digest(a, b) == digest
    assert vc.weights_digest(a) != digest             # the second module counts
    with torch.no_grad():
        bits = a.weight.view(torch.int32)
        bits[0, 0] ^= 1                               # the lowest mantissa bit
    assert vc.weights_digest(a, b) != digest
    with torch.no_grad():
        bits[0, 0] ^= 1
    assert vc.weights_digest(a, b) == digest


@pytest.mark.slow
def test_two_demo_runs_are_bit_identical_and_say_how_they_ran(vt, tmp_path):
    ws = vt.make_workspace(tmp_path, TASK)
    argv = vt.setting_argv(TASK, LABEL, ws) + ["--epochs", "2", "--train-size", "96",
                                               "--test-size", "64"]
    first, second = vt.run(argv, ws), vt.run(argv, ws)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "device=cpu threads=1 deterministic" in first.stdout.splitlines()[0]
    metrics = [re.findall(r"^(?:TRAIN|FINAL)_METRICS.*$", p.stdout, re.M) for p in (first, second)]
    assert len(metrics[0]) == 3 and metrics[0] == metrics[1]
    digests = [DIGEST_RE.findall(p.stdout) for p in (first, second)]
    assert len(digests[0]) == 1 and digests[0] == digests[1]
    # another seed trains differently: the digest is not a constant
    other = vt.run(argv[:argv.index("--seed") + 1] + ["7"] + argv[argv.index("--seed") + 2:], ws)
    assert DIGEST_RE.findall(other.stdout) != digests[0], other.stdout + other.stderr
