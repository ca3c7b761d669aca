"""How many settings run at once: one slot per visible CUDA device, else one
per CPU core (the demo drivers train on one thread each, so a 2-core machine
runs a test's two visible settings side by side).

Found without importing torch: CUDA_VISIBLE_DEVICES when set, else
`nvidia-smi -L`. MLSBENCH_SLOTS overrides (e.g. 1 to run settings one at a
time, or 2 per GPU written as "0,0,1,1" to let small settings share a device).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from sessions.errors import Refused
from sessions.settings import BY_KEY, current_settings

SLOTS_ENV = BY_KEY["slots"].env
DEVICE_ID = re.compile(r"^(\d+|(GPU|MIG)-[0-9A-Za-z/-]+)$")  # what CUDA_VISIBLE_DEVICES takes


def _gpu_ids() -> list[str]:
    visible = current_settings().cuda_visible_devices
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def cuda_available() -> bool:
    return bool(_gpu_ids())


def detect_slots(spec: str | None = None) -> list[dict[str, str]]:
    """One environment overlay per slot."""
    spec = spec if spec is not None else current_settings().slots
    if spec and spec.strip():
        return parse_slots(spec.strip())
    gpus = _gpu_ids()
    return [{"CUDA_VISIBLE_DEVICES": g} for g in gpus] or [{} for _ in range(_cpu_cores())]


def _cpu_cores() -> int:
    """The cores this process may run on (a container's or taskset's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_slots(spec: str) -> list[dict[str, str]]:
    """MLSBENCH_SLOTS: a count (settings at once, same devices) or device ids, one slot each."""
    if spec.isdigit():
        if int(spec) < 1:
            raise Refused(f"{SLOTS_ENV}={spec!r}: at least one slot is needed")
        return [{} for _ in range(int(spec))]
    devices = [d.strip() for d in spec.split(",")]
    bad = [d for d in devices if not DEVICE_ID.match(d)]
    if bad:
        raise Refused(
            f"{SLOTS_ENV}={spec!r}: {bad[0]!r} is neither a count nor a CUDA device id; give a number "
            "of settings to run at once (e.g. 4) or device ids, one slot each (e.g. 0,1 or 0,0,1,1)"
        )
    return [{"CUDA_VISIBLE_DEVICES": d} for d in devices]
