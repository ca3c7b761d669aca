"""Runners start a setting's command somewhere and report on it by job id.

A job writes all its output to the setting's log file and, when its command
ends, its exit status to an exit file beside it. The engine only ever reads
those two files and asks the runner for the job's state, so a job started by
an engine that was killed can be picked up again by the next one.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sessions.events import DONE, FAILED, LOST, RUNNING


@dataclass(frozen=True)
class Launch:
    label: str
    command: str
    cwd: Path
    log_path: Path
    exit_path: Path
    env: dict[str, str]


@dataclass(frozen=True)
class JobState:
    status: str  # queued | running | done | failed | lost
    exit_code: int | None = None
    detail: str = ""


def read_exit_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def ended_state(exit_path: Path) -> JobState | None:
    code = read_exit_file(exit_path)
    if code is None:
        return None
    return JobState(DONE if code == 0 else FAILED, code)


def wrapped_command(launch: Launch) -> str:
    """Shell text that runs the command with output to the log and records
    the exit status atomically (a half-written exit file is never seen)."""
    log, done = shlex.quote(str(launch.log_path)), shlex.quote(str(launch.exit_path))
    tmp = shlex.quote(str(launch.exit_path) + ".tmp")
    return f"({launch.command}) >>{log} 2>&1 </dev/null; echo $? >{tmp} && mv {tmp} {done}"


class Runner(Protocol):
    name: str

    def start(self, launch: Launch) -> str:
        """Start the job; returns its id (journaled, so it can be re-attached)."""

    def state(self, job_id: str, launch: Launch) -> JobState: ...

    def cancel(self, job_id: str) -> None: ...

    def idle(self, launch: Launch) -> None:
        """Wait a little for the job's log to grow (returns early where it can)."""


IDLE_SLEEP = 0.05  # seconds between looks at a quiet local log


DEFAULT_JOB_NICE = 10


class LocalRunner:
    """Subprocesses on this machine, each in its own process group.

    Jobs run at a lower CPU priority (`nice`): on a machine whose CPU both trains and
    draws the screen, the person's keys come first; alone, a job loses nothing.
    """

    name = "local"

    def __init__(self, nice: int = DEFAULT_JOB_NICE) -> None:
        self.nice = nice
        self._children: dict[str, subprocess.Popen] = {}

    def start(self, launch: Launch) -> str:
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        shell = ["/bin/sh", "-c", wrapped_command(launch)]
        proc = subprocess.Popen(
            ["nice", "-n", str(self.nice), *shell] if self.nice else shell,  # nice execs: same pid
            cwd=launch.cwd,
            env=launch.env,
            start_new_session=True,  # own process group: cancel kills it all
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        job_id = str(proc.pid)
        self._children[job_id] = proc
        return job_id

    def state(self, job_id: str, launch: Launch) -> JobState:
        child = self._children.get(job_id)
        if child is not None and child.poll() is not None:
            self._children.pop(job_id, None)  # reaped
        ended = ended_state(launch.exit_path)
        if ended is not None:
            return ended
        if job_id in self._children or _group_alive(int(job_id)):
            return JobState(RUNNING)
        # The group may have just written its exit file and gone: look again.
        return ended_state(launch.exit_path) or JobState(
            LOST, detail="the process is gone and left no exit status (killed outside the app?)"
        )

    def idle(self, launch: Launch) -> None:
        time.sleep(IDLE_SLEEP)

    def cancel(self, job_id: str) -> None:
        pgid = int(job_id)
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(pgid):
                child = self._children.get(job_id)
                if child is not None:
                    child.poll()
                time.sleep(0.05)
            if not _group_alive(pgid):
                break
        child = self._children.pop(job_id, None)
        if child is not None:
            child.wait(timeout=5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie_group(pgid)


def _is_zombie_group(pgid: int) -> bool:
    """A reaped-late leader shows as alive to kill(0); /proc tells the truth."""
    try:
        stat = Path(f"/proc/{pgid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"

