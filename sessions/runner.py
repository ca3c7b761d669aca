"""Runners start a setting's command somewhere and report on it by job id.

A job writes all its output to the setting's log file and, when its command
ends, its exit status to an exit file beside it. The engine only ever reads
those two files and asks the runner for the job's state, so a job started by
an engine that was killed can be picked up again by the next one.

A job started with a metrics channel gets its `<label>.metrics` file opened by
the wrapper on METRICS_FD (named in METRICS_FD_ENV), for the driver to write
its metrics lines to; a run from before the channel has none (metrics_path None).

A job has ended only when its wrapper has: an exit file that appears while the
wrapper still runs (written by the training code) changes nothing, and the
wrapper, when it ends, overwrites it with the real status.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sessions.events import DONE, FAILED, LOST, RUNNING
from sessions.metrics import METRICS_FD, METRICS_FD_ENV
from sessions.processes import JOB_TOKEN, end_leftovers, group_alive, is_our_leader, signal_group

_group_alive = group_alive  # the name the app's tests know


@dataclass(frozen=True)
class Launch:
    label: str
    command: str
    cwd: Path
    log_path: Path
    exit_path: Path
    env: dict[str, str]
    metrics_path: Path | None = None  # the metrics channel's file; None: a run from before it


@dataclass(frozen=True)
class JobState:
    status: str  # queued | running | done | failed | lost
    exit_code: int | None = None
    detail: str = ""


def read_exit_file(path: Path) -> int | None:
    """The status an exit file records: its first word (a Slurm job's file names the job after it)."""
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def ended_state(exit_path: Path) -> JobState | None:
    code = read_exit_file(exit_path)
    if code is None:
        return None
    return JobState(DONE if code == 0 else FAILED, code)


def wrapped_command(launch: Launch, exit_with_status: bool = False) -> str:
    """Shell text that runs the command with output to the log and records
    the exit status atomically (a half-written exit file is never seen).
    exit_with_status: the wrapper exits with the command's status too, so a
    parent that waits for it learns it even where the exit file cannot be
    written (disk full)."""
    log, done = shlex.quote(str(launch.log_path)), shlex.quote(str(launch.exit_path))
    tmp = shlex.quote(str(launch.exit_path) + ".tmp")
    end = "; exit $code" if exit_with_status else ""
    head, channel = metrics_channel_shell(launch)
    return (f"{head}({launch.command}) >>{log} 2>&1 </dev/null{channel}; "
            f"code=$?; echo $code >{tmp} && mv {tmp} {done}{end}")


def metrics_channel_shell(launch: Launch) -> tuple[str, str]:
    """(what goes before the command, the redirection after it) that open the run's metrics
    file on METRICS_FD and name it in the environment; empty for a run from before the channel."""
    if launch.metrics_path is None:
        return "", ""
    return (f"{METRICS_FD_ENV}={METRICS_FD}; export {METRICS_FD_ENV}; ",
            f" {METRICS_FD}>>{shlex.quote(str(launch.metrics_path))}")


def job_token(launch: Launch) -> str:
    """What identifies this setting's job among processes: its exit file, unique per run."""
    return str(launch.exit_path)


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
        shell = ["/bin/sh", "-c", wrapped_command(launch, exit_with_status=True)]
        proc = subprocess.Popen(
            ["nice", "-n", str(self.nice), *shell] if self.nice else shell,  # nice execs: same pid
            cwd=launch.cwd,
            env={**launch.env, JOB_TOKEN: job_token(launch)},
            start_new_session=True,  # own process group: cancel kills it all
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        job_id = str(proc.pid)
        self._children[job_id] = proc
        return job_id

    def state(self, job_id: str, launch: Launch) -> JobState:
        pid = int(job_id)
        child = self._children.get(job_id)
        if child is not None:  # ours: its exit status comes straight from the wrapper
            code = child.poll()
            if code is None:
                return JobState(RUNNING)
            self._children.pop(job_id, None)
            end_leftovers(pid)
            if code >= 0:
                return JobState(DONE if code == 0 else FAILED, code)
            return ended_state(launch.exit_path) or JobState(
                LOST, detail=f"the job was killed by signal {-code} (outside the app?)")
        # Re-attached after a restart: follow the wrapper while it runs, then read its exit file.
        if is_our_leader(pid, job_token(launch)):
            return JobState(RUNNING)
        end_leftovers(pid)
        return ended_state(launch.exit_path) or JobState(
            LOST, detail="the process is gone and left no exit status (killed outside the app, "
                         "or its exit file could not be written: a full disk?)"
        )

    def idle(self, launch: Launch) -> None:
        time.sleep(IDLE_SLEEP)

    def cancel(self, job_id: str) -> None:
        """Stop the job's whole process group: TERM, then KILL; never a group that is not ours."""
        pgid = int(job_id)
        ours = job_id in self._children  # our child: no need to ask /proc (its exec may not even have happened)
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
            if not signal_group(pgid, sig, trusted=ours):
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and group_alive(pgid):
                child = self._children.get(job_id)
                if child is not None:
                    child.poll()
                time.sleep(0.05)
            if not group_alive(pgid):
                break
        child = self._children.pop(job_id, None)
        if child is not None:
            child.wait(timeout=5)
