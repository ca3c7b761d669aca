"""The settings (MLSBENCH_* variables and the settings file), checked at start with a clear message each.

A bad value is reported before anything runs, naming where it was set, what it
holds and what it should hold, instead of surfacing later as a strange failure
(a device list in CUDA_VISIBLE_DEVICES, a test that cannot start its Python).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sessions.errors import Refused
from sessions.runners import RunnerConfigError, local_job_nice
from sessions.settings import BY_KEY, Settings, current_settings, read_settings
from sessions.slots import parse_slots

FOLDERS = ("sessions_dir", "data_root")  # options that name a folder
SEARCH_PATHS = ("tasks", "agents")  # options that list files or folders
XDG_DATA_HOME = "XDG_DATA_HOME"


def environment_problems(environ: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the settings of `environ` (default: this process's), one message each."""
    settings = current_settings() if environ is None else read_settings(dict(environ))
    problems = list(settings.problems)
    for key, check in (("slots", parse_slots), ("job_nice", local_job_nice)):
        if settings.text(key).strip():
            try:
                check(settings.text(key).strip())
            except (Refused, RunnerConfigError) as exc:
                problems.append(_named(settings, key, str(exc)))
    python = settings.python
    if python and shutil.which(python) is None:
        problems.append(f"{settings.source('python')}={python!r}: no such executable; give the Python that runs "
                        "the training drivers (one with torch), or unset it to use this one")
    folders = [(settings.source(k), settings.text(k), BY_KEY[k].meaning) for k in FOLDERS]
    folders.append((XDG_DATA_HOME, settings.system.get(XDG_DATA_HOME, ""),
                    "the base of the default sessions and data folders"))
    for where, value, meaning in folders:
        if value and Path(value).expanduser().exists() and not Path(value).expanduser().is_dir():
            problems.append(f"{where}={value!r} ({meaning}) is a file, not a folder")
    for key in SEARCH_PATHS:
        for path in settings.paths(key):
            if not path.exists():
                problems.append(f"{settings.source(key)} names {str(path)!r} ({BY_KEY[key].meaning}), which does "
                                f"not exist; separate several with {os.pathsep!r}")
    config = settings.text("slurm_config")
    if config and not Path(config).expanduser().is_file():
        problems.append(f"{settings.source('slurm_config')}={config!r}: no such file (the Slurm runner's TOML config)")
    return problems


def _named(settings: Settings, key: str, message: str) -> str:
    """A check's message names the variable; say the settings file where that set it."""
    return message.replace(f"{BY_KEY[key].env}=", f"{settings.source(key)}=", 1)
