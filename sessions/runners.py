"""Choosing a runner backend from the command line and its config file."""

from __future__ import annotations

from pathlib import Path

from sessions.runner import DEFAULT_JOB_NICE, LocalRunner, Runner
from sessions.settings import BY_KEY, current_settings
from sessions.slurm import SlurmConfig, SlurmConfigError, SlurmRunner

RUNNERS = ("local", "slurm")
RunnerConfigError = SlurmConfigError
NICE_ENV = BY_KEY["job_nice"].env


def make_runner(name: str, config: Path | None) -> Runner:
    if name == "local":
        return LocalRunner(local_job_nice())
    if name == "slurm":
        return SlurmRunner(SlurmConfig.load(config or current_settings().slurm_config))
    raise RunnerConfigError(f"unknown runner {name!r}; choose one of {', '.join(RUNNERS)}")


def local_job_nice(value: str | None = None) -> int:
    """The CPU priority of local jobs: MLSBENCH_JOB_NICE, 0 (normal) to 19 (lowest)."""
    text = (current_settings().job_nice if value is None else value).strip()
    if not text:
        return DEFAULT_JOB_NICE
    if not (text.isdigit() and int(text) <= 19):
        raise RunnerConfigError(
            f"{NICE_ENV}={text!r}: give a niceness from 0 (training at normal priority) to 19 (lowest)")
    return int(text)


def runner_sessions_dir(runner: Runner) -> Path | None:
    """Where a runner needs session files to be (Slurm: the shared directory)."""
    shared = getattr(getattr(runner, "config", None), "shared_dir", "")
    return Path(shared) / "sessions" if shared else None
