"""How many settings run at once: one slot per visible CUDA device, else one
per CPU core (the demo drivers train on one thread each, so a 2-core machine
runs a test's two visible settings side by side).

Found without importing torch: CUDA_VISIBLE_DEVICES when set, else
`nvidia-smi -L`. MLSBENCH_SLOTS overrides (e.g. 1 to run settings one at a
time, or 2 per GPU written as "0,0,1,1" to let small settings share a device).
"""

from __future__ import annotations

import os
import shutil
import subprocess


def _gpu_ids() -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
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
    spec = spec if spec is not None else os.environ.get("MLSBENCH_SLOTS")
    if spec:
        if spec.isdigit():
            return [{} for _ in range(max(1, int(spec)))]
        return [{"CUDA_VISIBLE_DEVICES": d.strip()} for d in spec.split(",") if d.strip()]
    gpus = _gpu_ids()
    return [{"CUDA_VISIBLE_DEVICES": g} for g in gpus] or [{} for _ in range(_cpu_cores())]


def _cpu_cores() -> int:
    """The cores this process may run on (a container's or taskset's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
