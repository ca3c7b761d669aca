"""Without a GPU a machine runs one setting per CPU core at once (the demo
drivers train on one thread each); GPUs and MLSBENCH_SLOTS decide otherwise."""

from __future__ import annotations

import os

import pytest

from sessions import slots


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.delenv("MLSBENCH_SLOTS", raising=False)
    monkeypatch.setattr(slots, "_gpu_ids", lambda: [])


def test_one_slot_per_cpu_core_without_a_gpu(no_gpu, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert slots.detect_slots() == [{}, {}]


def test_the_cores_this_process_may_use_not_the_machines(no_gpu, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert slots.detect_slots() == [{}]


def test_gpus_and_the_override_still_decide(monkeypatch):
    monkeypatch.delenv("MLSBENCH_SLOTS", raising=False)
    monkeypatch.setattr(slots, "_gpu_ids", lambda: ["0"])
    assert slots.detect_slots() == [{"CUDA_VISIBLE_DEVICES": "0"}]
    monkeypatch.setattr(slots, "_gpu_ids", lambda: [])
    assert slots.detect_slots("1") == [{}]
