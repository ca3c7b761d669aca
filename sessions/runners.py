"""Choosing a runner backend from the command line and its config file."""

from __future__ import annotations

from pathlib import Path

from sessions.runner import LocalRunner, Runner

RUNNERS = ("local",)


class RunnerConfigError(ValueError):
    """The runner cannot be used as configured; the message says how to fix it."""


def make_runner(name: str, config: Path | None, sessions_dir: Path) -> Runner:
    if name == "local":
        return LocalRunner()
    raise RunnerConfigError(f"unknown runner {name!r}; choose one of {', '.join(RUNNERS)}")
