"""What every subcommand shares: the error a person sees, the folders made absolute, and the
context that resolves tasks, sessions and runners from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sessions.engine import Session
from sessions.environment import environment_problems
from sessions.runners import make_runner, runner_sessions_dir
from sessions.settings import current_settings, player_name
from sessions.slots import cuda_available
from sessions.store import find_session, list_sessions, session_or_path
from sessions.worktime import set_time_limit
from tasks import Catalog, TaskSpec


class CliError(Exception):
    """A message for the person at the terminal; exit status 2."""


# -- shared resolution -------------------------------------------------------------------
def absolute_paths(args: argparse.Namespace) -> None:
    """Every folder option as an absolute path, once, at start: jobs run inside a test
    folder, where a relative path would name another place (a relative MLSBENCH_*
    folder is made absolute by the engine in the same way)."""
    for name in ("sessions_dir", "data_root", "runner_config"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(args, name, value.expanduser().resolve())
    args.tasks_dir = [p.expanduser().resolve() for p in getattr(args, "tasks_dir", [])]


def check_environment() -> None:
    problems = environment_problems()
    if problems:
        raise CliError("the settings are not usable (environment or settings file):\n  " + "\n  ".join(problems))


class Context:
    def __init__(self, args: argparse.Namespace):
        absolute_paths(args)
        self.args = args
        self.catalog = Catalog([*current_settings().task_dirs, *args.tasks_dir])
        self._runner = None

    @property
    def runner(self):
        if self._runner is None:  # only commands that run settings need one
            self._runner = make_runner(self.args.runner, self.args.runner_config)
        return self._runner

    @property
    def sessions_dir(self) -> Path:
        if self.args.sessions_dir:
            return self.args.sessions_dir
        if self.args.runner != "local":
            shared = runner_sessions_dir(self.runner)
            if shared:
                return shared
        return current_settings().sessions_dir

    def task(self, task_id: str | None) -> TaskSpec:
        if not task_id:
            raise CliError("which task? pass --task ID (`mlsbench-tui list` shows them)")
        return self.catalog.get(task_id)

    def options(self) -> dict[str, Any]:
        return {"runner": self.runner}

    def default_profile(self, task: TaskSpec, notes: list[str] | None = None) -> str:
        """--profile, else paper with a GPU and demo without; the choice is said on stderr,
        or added to `notes` (the app shows them once it has the screen)."""
        if self.args.profile:
            return self.args.profile
        if cuda_available():
            profile, why = "paper", "profile: paper (a CUDA device is visible)"
        else:
            profile, why = "demo", ("profile: demo (no CUDA device visible; its scores are not comparable with "
                                    "published ones; --profile paper runs the published protocol)")
        if notes is None:
            print(why, file=sys.stderr)
        else:
            notes.append(why[0].upper() + why[1:] + ".")
        return profile

    def player(self) -> str:
        """The name a new session records: --name, else the settings' (never empty)."""
        if self.args.name is None:
            return current_settings().player_name
        name = player_name(self.args.name)
        if not name:
            raise CliError("--name is empty: give the name to show on leaderboards, or leave --name out "
                           f"for {current_settings().player_name!r}")
        return name

    def new_session(self, notes: list[str] | None = None) -> Session:
        task = self.task(self.args.task)
        session = Session.create(
            task, sessions_dir=self.sessions_dir, profile=self.default_profile(task, notes),
            seed=self.args.seed, data_root=self.args.data_root, person=self.player(), **self.options(),
        )
        if self.args.time_limit:
            set_time_limit(session, self.args.time_limit)
        return session

    def session_dir(self, session_id: str | None, task_id: str | None) -> Path:
        if session_id:
            try:
                return find_session(self.sessions_dir, session_id)
            except LookupError as exc:
                raise CliError(str(exc)) from None
        open_ = [s for s in list_sessions(self.sessions_dir, task_id) if s.is_open]
        if not open_:
            raise CliError(f"no open session{' of ' + task_id if task_id else ''} in {self.sessions_dir}; "
                           "`mlsbench-tui session new --task ID` starts one")
        return open_[-1].dir

    def replay_path(self, text: str) -> Path:
        """What `replay` and `--replay` read: a file or folder, or a session named by id or prefix."""
        try:
            return session_or_path(self.sessions_dir, text)
        except LookupError as exc:
            raise CliError(str(exc)) from None

    def open_session(self, directory: Path) -> Session:
        task_id = directory.parent.name
        return Session.open(directory, self.task(task_id), **self.options())

    def view_session(self, directory: Path) -> Session:
        """Read-only: no lock, nothing written (works beside the app or a running test)."""
        return Session.view(directory, self.task(directory.parent.name))
