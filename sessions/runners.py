"""Choosing a runner backend from the command line and its config file."""

from __future__ import annotations

from pathlib import Path

from sessions.runner import LocalRunner, Runner
from sessions.slurm import SlurmConfig, SlurmConfigError, SlurmRunner, default_config_path

RUNNERS = ("local", "slurm")
RunnerConfigError = SlurmConfigError


def make_runner(name: str, config: Path | None) -> Runner:
    if name == "local":
        return LocalRunner()
    if name == "slurm":
        return SlurmRunner(SlurmConfig.load(config or default_config_path()))
    raise RunnerConfigError(f"unknown runner {name!r}; choose one of {', '.join(RUNNERS)}")


def runner_sessions_dir(runner: Runner) -> Path | None:
    """Where a runner needs session files to be (Slurm: the shared directory)."""
    shared = getattr(getattr(runner, "config", None), "shared_dir", "")
    return Path(shared) / "sessions" if shared else None
