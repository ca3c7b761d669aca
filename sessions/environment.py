"""The MLSBENCH_* environment variables, checked at start with a clear message each.

A bad value is reported before anything runs, naming the variable, what it
holds and what it should hold, instead of surfacing later as a strange failure
(a device list in CUDA_VISIBLE_DEVICES, a test that cannot start its Python).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sessions.errors import Refused
from sessions.runners import NICE_ENV, RunnerConfigError, local_job_nice
from sessions.slots import SLOTS_ENV, parse_slots

FOLDER_VARS = {
    "MLSBENCH_SESSIONS": "where sessions are kept",
    "MLSBENCH_DATA": "where datasets live",
    "XDG_DATA_HOME": "the base of the default sessions and data folders",
}
SEARCH_PATH_VARS = {
    "MLSBENCH_TASKS": "extra task folders",
    "MLSBENCH_AGENTS": "published agent conversations (files or folders)",
}


def environment_problems(environ: dict[str, str] | None = None) -> list[str]:
    env = dict(os.environ if environ is None else environ)
    problems = []
    slots = env.get(SLOTS_ENV, "").strip()
    if slots:
        try:
            parse_slots(slots)
        except Refused as exc:
            problems.append(str(exc))
    if env.get(NICE_ENV, "").strip():
        try:
            local_job_nice(env[NICE_ENV])
        except RunnerConfigError as exc:
            problems.append(str(exc))
    python = env.get("MLSBENCH_PYTHON", "")
    if python and shutil.which(python) is None:
        problems.append(f"MLSBENCH_PYTHON={python!r}: no such executable; give the Python that runs the "
                        "training drivers (one with torch), or unset it to use this one")
    for name, meaning in FOLDER_VARS.items():
        value = env.get(name, "")
        if value and Path(value).expanduser().exists() and not Path(value).expanduser().is_dir():
            problems.append(f"{name}={value!r} ({meaning}) is a file, not a folder")
    for name, meaning in SEARCH_PATH_VARS.items():
        for part in filter(None, env.get(name, "").split(os.pathsep)):
            if not Path(part).expanduser().exists():
                problems.append(f"{name} names {part!r} ({meaning}), which does not exist; "
                                f"separate several with {os.pathsep!r}")
    config = env.get("MLSBENCH_SLURM_CONFIG", "")
    if config and not Path(config).expanduser().is_file():
        problems.append(f"MLSBENCH_SLURM_CONFIG={config!r}: no such file (the Slurm runner's TOML config)")
    return problems
