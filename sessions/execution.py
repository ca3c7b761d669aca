"""Running the settings of one test (or of the submission) through a runner.

One worker thread per slot takes settings from the queue, starts (or
re-attaches to) its job, tails its log into events, and journals how it
ended. When every setting has ended the run's feedback is journaled.

If the journal cannot be written (disk full) the run stops being followed:
its jobs go on, `error` says why, and `finished` is set so that whoever waits
is told. The journal holds what was recorded up to then, so the next start
re-attaches.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sessions.errors import Refused
from sessions.events import (
    CANCELLED,
    DONE,
    ENDED,
    FAILED,
    LOST,
    QUEUED,
    RUNNING,
    LogLines,
    Progress,
    RunFinished,
    RunKey,
    SettingStatus,
)
from sessions.feedback import TAIL_LINES, run_feedback, setting_block
from sessions.metrics import BYTE_NEEDLES, SettingMetrics, row_numbers
from sessions.runner import JobState, Launch, Runner, read_exit_file
from sessions.state import SettingRecord
from sessions.tail import LogTailer, SettingTail, last_lines, lines_containing, read_log_tail, split_lines
from tasks.spec import Setting

BATCH_PAUSE = 0.05  # seconds between reads of a streaming log: lines arrive in batches, ~20 a second



@dataclass(frozen=True)
class RunHooks:
    """All a run controller may do to its session: the narrow loop between the two."""

    record: Callable[..., None]  # journal an entry: record(type, **data)
    emit: Callable[[Any], None]  # tell the subscribers
    budget_left: Callable[[], int]  # for the feedback's "N tests left"
    snapshot_problem: Callable[[RunKey], str | None]  # checked before each setting starts
    lines_per_event: Callable[[], int | None]  # the most log lines any subscriber takes at once
    finished: Callable[[RunKey, str], None]  # journal the run's feedback and write its results


@dataclass
class SettingJob:
    setting: Setting
    launch: Launch
    metrics: SettingMetrics
    job_id: str | None = None
    started_wall: float | None = None
    outcome: JobState | None = None


def setting_job(setting: Setting, launch: Launch, metrics: SettingMetrics, done: SettingRecord) -> SettingJob:
    """A setting's job as the journal left it; a finished one gets its outcome and its log's metrics back."""
    job = SettingJob(setting, launch, metrics, job_id=done.job_id, started_wall=parse_time(done.started_at))
    if done.status in ENDED:
        job.outcome = JobState(done.status, done.exit_code, done.detail)
        replay_log(launch.metrics_path or launch.log_path, metrics)
    return job


def script_name(setting: Setting) -> str:
    return f"scripts/{setting.label_snake}.sh"


def write_setting_script(run_dir: Path, setting: Setting, command: str) -> Path:
    """The setting's command as a script in the run directory, to re-run it by hand."""
    path = run_dir / script_name(setting)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\n# {setting.label}\ncd "$(dirname "$0")/.." || exit 1\nexec {command}\n', encoding="utf-8")
    path.chmod(0o755)
    return path


class RunController:
    def __init__(
        self,
        hooks: RunHooks,
        key: RunKey,
        jobs: list[SettingJob],
        runner: Runner,
        slot_envs: list[dict[str, str]],
    ):
        self.hooks, self.key, self.runner = hooks, key, runner
        self.jobs = {job.setting.label: job for job in jobs}
        self._queue = deque(job for job in jobs if job.outcome is None)
        self._slot_envs = slot_envs
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._stop = threading.Event()  # detach: leave jobs running
        self._workers: list[threading.Thread] = []
        self.finished = threading.Event()
        self.error: str | None = None  # why the run stopped being followed (disk full, ...)

    # -- control ---------------------------------------------------------------
    def start(self) -> None:
        # Jobs that were already running (re-attach) are followed at once, each in a
        # slot; when one ends its slot takes queued settings. Slots left free start
        # queued settings now. More running jobs than slots: the extra ones free none.
        running = [job for job in self._queue if job.job_id is not None]
        for job in running:
            self._queue.remove(job)
        envs = list(self._slot_envs) or [{}]
        for i, job in enumerate(running):
            env = envs[i] if i < len(envs) else None
            self._spawn(lambda job=job, env=env: self._resume(job, env))
        for env in envs[len(running):]:
            self._spawn(lambda env=env: self._work(env))
        threading.Thread(target=self._join, name=f"{self.key}-join", daemon=True).start()

    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=lambda: self._guarded(target), name=f"{self.key}-worker", daemon=True)
        self._workers.append(thread)
        thread.start()

    def _guarded(self, target: Callable[[], None]) -> None:
        """A worker that cannot journal (disk full) stops the run's following, with the reason."""
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - reported to whoever waits, never a thread traceback
            with self._lock:
                self.error = self.error or _reason(exc)
            self._stop.set()

    def _resume(self, job: SettingJob, slot_env: dict[str, str] | None) -> None:
        self._follow(job, {})
        if slot_env is not None:
            self._work(slot_env)

    def cancel(self) -> None:
        self._cancel.set()
        with self._lock:
            running = [job for job in self.jobs.values() if job.job_id and job.outcome is None]
        for job in running:
            self.runner.cancel(job.job_id)

    def detach(self) -> None:
        """Stop following the jobs; they keep running and can be re-attached."""
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    # -- workers -----------------------------------------------------------------
    def _next(self) -> SettingJob | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _work(self, slot_env: dict[str, str]) -> None:
        while not self._stop.is_set():
            job = self._next()
            if job is None:
                return
            if self._cancel.is_set():
                self._end(job, JobState(CANCELLED))
                continue
            self._follow(job, slot_env)

    def _follow(self, job: SettingJob, slot_env: dict[str, str]) -> None:
        if job.job_id is None:
            problem = self.hooks.snapshot_problem(self.key)
            if problem is not None:  # changed since the test started: never run it
                self._end(job, JobState(FAILED, detail=problem))
                return
            launch = job.launch
            launch.env.update(slot_env)
            job.job_id = self.runner.start(launch)
            job.started_wall = time.time()
            self.hooks.record(
                "setting_started", phase=self.key.phase, n=self.key.n, label=job.setting.label,
                job_id=job.job_id, runner=self.runner.name, metrics_channel=launch.metrics_path is not None,
            )
        self.hooks.emit(SettingStatus(self.key, job.setting.label, RUNNING))
        tail = SettingTail(job.launch.log_path, job.launch.metrics_path)
        last_progress: tuple[float, float] | None = None
        while not self._stop.is_set():
            log_block, metrics_block = tail.read()
            if log_block or metrics_block:
                last_progress = self._report(job, log_block, metrics_block, last_progress)
                if tail.caught_up:  # let the next lines gather
                    time.sleep(BATCH_PAUSE)
                continue
            state = self.runner.state(job.job_id, job.launch)
            if state.status in ENDED:
                for log_block, metrics_block in tail.drain():  # what it wrote before it ended
                    last_progress = self._report(job, log_block, metrics_block, last_progress)
                if self._cancel.is_set() and read_exit_file(job.launch.exit_path) is None:
                    state = JobState(CANCELLED)  # killed by the cancel, not by itself
                self._end(job, state)
                return
            if state.status == QUEUED:
                self.hooks.emit(SettingStatus(self.key, job.setting.label, QUEUED, detail=state.detail))
            self.runner.idle(job.launch)

    def _report(self, job: SettingJob, log_block: bytes, metrics_block: bytes, last_progress):
        """Feed new metrics lines to the setting's metrics, and tell the subscribers of them and of the new log lines."""
        parsed = feed_block(metrics_block, job.metrics)
        limit = self.hooks.lines_per_event()
        lines, skipped = (split_lines(log_block), 0) if limit is None else last_lines(log_block, limit)
        label = job.setting.label
        self.hooks.emit(LogLines(self.key, label, lines, parsed, skipped))
        progress = job.metrics.progress()
        if progress is not None and progress != last_progress:
            done, total = progress
            self.hooks.emit(Progress(self.key, label, done, total, job.metrics.plan_unit or "", self._eta(job, done, total)))
        return progress

    @staticmethod
    def _eta(job: SettingJob, done: float, total: float) -> float | None:
        if job.started_wall is None or done <= 0 or math.isnan(done):
            return None
        elapsed = time.time() - job.started_wall
        return max(0.0, elapsed / done * (total - done))

    def _end(self, job: SettingJob, state: JobState) -> None:
        job.outcome = state
        results = {name: v.text for name, v in job.metrics.results().items()} if state.status == DONE else {}
        self.hooks.record(
            "setting_finished", phase=self.key.phase, n=self.key.n, label=job.setting.label,
            status=state.status, exit_code=state.exit_code, results=results, detail=state.detail,
        )
        self.hooks.emit(SettingStatus(self.key, job.setting.label, state.status, state.exit_code, state.detail))

    def _join(self) -> None:
        for thread in list(self._workers):
            thread.join()
        if self.error is None and not self._stop.is_set():
            blocks = [self._block(job) for job in self.jobs.values()]
            feedback = run_feedback(self.key, self.hooks.budget_left(), blocks)
            try:
                self.hooks.finished(self.key, feedback)
            except Exception as exc:  # noqa: BLE001 - as in _guarded
                self.error = _reason(exc)
            else:
                self.hooks.emit(RunFinished(self.key, feedback))
        if self.error is not None or not self._stop.is_set():  # a detach leaves it unfinished
            self.finished.set()

    def _block(self, job: SettingJob) -> str:
        state = job.outcome or JobState(LOST, detail="never started")
        tail: list[str] = []
        if state.status == FAILED:
            tail = _log_tail(job.launch.log_path)
        return setting_block(
            job.setting.label, script_name(job.setting), state.status, state.exit_code,
            job.metrics, tail, state.detail,
        )


def _reason(exc: Exception) -> str:
    """Why following stopped: the engine's own message, else the error's kind and text."""
    return str(exc) if isinstance(exc, Refused) else f"following the run failed: {exc.__class__.__name__}: {exc}"


def _log_tail(path: Path) -> list[str]:
    if not path.exists():
        return ["(no output)"]
    return read_log_tail(path, TAIL_LINES, 16384)[0]


def feed_block(block: bytes, metrics: SettingMetrics) -> list[dict[str, float]]:
    """Feed a block of metrics lines to a setting's metrics; the TRAIN_METRICS rows it held, as numbers."""
    rows = []
    for line in lines_containing(block, BYTE_NEEDLES):
        parsed = metrics.feed(line)
        if parsed is not None and parsed.kind == "train" and (row := row_numbers(parsed)):
            rows.append(row)
    return rows


def replay_log(path: Path, metrics: SettingMetrics) -> None:
    """Feed a finished setting's whole metrics file (or, from before the channel, log) to its metrics."""
    for block in LogTailer(path).drain():
        feed_block(block, metrics)


def parse_time(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None

