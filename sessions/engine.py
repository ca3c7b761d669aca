"""The session engine: one person's attempt at one task, under the agents' rules.

    session = Session.create(task, sessions_dir=..., profile="demo")
    session.edit("pytorch-vision/custom_mtl.py", 195, 216, new_text)
    feedback = session.test()          # or start_test() and follow events
    session.submit(1)

Every change goes through `record()`: a journal entry first, then the same
entry applied to the in-memory state; so a killed app resumes exactly.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from sessions.errors import Refused
from sessions.events import ENDED, RunKey, SessionChanged
from sessions.execution import (
    RunController,
    SettingJob,
    exit_path,
    log_path,
    parse_time,
    replay_log,
    write_setting_script,
)
from sessions.flags import record_edit_flags, record_submit_flags
from sessions.journal import Journal
from sessions.metrics import SettingMetrics
from sessions.ranges import EditRefused, content_lines, describe, fixed_segments, match_ranges
from sessions.runner import JobState, Launch, LocalRunner, Runner
from sessions.slots import detect_slots
from sessions.state import FileState, RunRecord, SessionState, sha256_text
from sessions.store import JOURNAL, default_data_root, new_session_id, write_json
from tasks.spec import LineRange, Setting, TaskSpec

PREFLIGHT_TIMEOUT = 300  # seconds for one setting's --check


class Session:
    def __init__(
        self,
        directory: Path,
        task: TaskSpec,
        journal: Journal,
        *,
        runner: Runner | None = None,
        slots: list[dict[str, str]] | None = None,
        python: str | None = None,
    ):
        self.dir, self.task, self.journal = directory, task, journal
        self.runner: Runner = runner or LocalRunner()
        self.slot_envs = slots or detect_slots()
        self.python = python or os.environ.get("MLSBENCH_PYTHON") or sys.executable
        self.state = SessionState()
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[Any], None]] = []
        self.controller: RunController | None = None
        # At most this many lines per LogLines event (None: all). A screen sets it to what it
        # can show, so that a driver printing flat out costs it no per-line work.
        self.lines_per_event: int | None = None
        for entry in journal.entries:
            self.state.apply(entry.type, entry.data, entry.time)
        self.resume_warning = journal.warning

    # -- creating and opening ------------------------------------------------------
    @classmethod
    def create(
        cls,
        task: TaskSpec,
        *,
        sessions_dir: Path,
        profile: str,
        seed: int | None = None,
        data_root: Path | None = None,
        person: str = "",
        **options: Any,
    ) -> Session:
        if profile not in task.profiles:
            raise Refused(f"unknown profile {profile!r}; choose one of {', '.join(task.profiles)}")
        missing = task.missing_sources()
        if missing:
            raise Refused(
                f"task {task.id} is not runnable yet: its scaffold files are missing "
                f"({', '.join(str(p) for p in missing)})"
            )
        directory = sessions_dir / task.id / new_session_id()
        files = {}
        for f in task.files:
            text = f.source.read_text(encoding="utf-8")
            for root in ("scaffold", "workspace"):
                target = directory / root / f.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            files[f.path] = {
                "text": text if f.is_editable else None,
                "sha256": sha256_text(text),
                "ranges": [[r.start, r.end] for r in f.editable],
            }
        journal = Journal(directory / JOURNAL)
        journal.append(
            "session_created",
            task_id=task.id,
            title=task.title,
            profile=profile,
            seed=task.default_seed if seed is None else seed,
            data_root=str(data_root or default_data_root()),
            test_budget=task.test_budget,
            person=person or os.environ.get("USER", ""),
            # a list: the journal sorts object keys, and settings keep the task's order
            settings=[{"label": s.label, "command": s.command, "hidden": s.hidden} for s in task.settings],
        )
        journal.append("files_initialised", files=files)
        session = cls(directory, task, journal, **options)
        session._lock_dir()
        return session

    @classmethod
    def open(cls, directory: Path, task: TaskSpec, **options: Any) -> Session:
        journal = Journal(directory / JOURNAL)
        if not journal.entries:
            raise Refused(f"{directory / JOURNAL} is empty: there is no session to resume here")
        session = cls(directory, task, journal, **options)
        session._lock_dir()
        if journal.warning:
            session.record("note", text=journal.warning)
        return session

    def _lock_dir(self) -> None:
        self._lock_file = open(self.dir / "lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise Refused(
                f"session {self.id} is open in another mlsbench-tui process; close that one first"
            ) from None

    def close(self, cancel_running: bool = False) -> None:
        """Stop following; running jobs keep going unless cancel_running."""
        if self.controller is not None and not self.controller.finished.is_set():
            if cancel_running:
                try:
                    self.cancel()
                except Refused:
                    pass  # it finished as we asked: nothing left to cancel
                self.controller.wait(30)
            else:
                self.controller.detach()
        self.journal.close()
        self._lock_file.close()

    # -- facts ---------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.dir.name

    @property
    def meta(self) -> dict[str, Any]:
        return self.state.meta

    @property
    def profile(self) -> str:
        return self.meta["profile"]

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def workspace(self) -> Path:
        return self.dir / "workspace"

    @property
    def editable_paths(self) -> list[str]:
        return [path for path, f in self.state.files.items() if f.ranges]

    def file_state(self, path: str) -> FileState:
        try:
            return self.state.files[path]
        except KeyError:
            raise Refused(
                f"{path!r} is not an editable file of {self.task.id}; editable: {', '.join(self.editable_paths)}"
            ) from None

    def ranges(self, path: str) -> tuple[LineRange, ...]:
        return self.file_state(path).ranges

    def settings(self, hidden: bool) -> list[Setting]:
        return [
            Setting(info["label"], info["command"], info["hidden"])
            for info in self.meta["settings"]
            if info["hidden"] == hidden
        ]

    # -- events and the journal --------------------------------------------------------
    def subscribe(self, callback: Callable[[Any], None]) -> None:
        self._subscribers.append(callback)

    def emit(self, event: Any) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception as exc:  # a broken view must not stop a test
                print(f"mlsbench-tui: event subscriber failed: {exc!r}", file=sys.stderr)

    def record(self, type_: str, **data: Any) -> None:
        with self._lock:
            entry = self.journal.append(type_, **data)
            self.state.apply(entry.type, entry.data, entry.time)

    def _changed(self, reason: str) -> None:
        self.emit(SessionChanged(reason))

    # -- edits -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.state.closed:
            raise Refused(f"session {self.id} is closed: test #{self.state.submitted_test} was submitted")

    def edit(self, path: str, start: int, end: int, content: str) -> str:
        """Replace lines start..end (inclusive) of an editable file."""
        with self._lock:
            self._check_open()
            self._check_disk_matches(path)
            message = self._apply_edit(path, start, end, content)
        self._changed("edit")
        return message

    def _apply_edit(self, path: str, start: int, end: int, content: str) -> str:
        after = self.file_state(path).edited(start, end, content)
        self.record(
            "edit", file=path, start=start, end=end, content=content,
            sha256_after=sha256_text(after.text),
        )
        self._write_workspace(path)
        flags = record_edit_flags(self, path)
        return (
            f"OK: Replaced lines {start}..{end} with {len(content_lines(content))} line(s) in {path}. "
            f"Editable range: {self._range_around(after.ranges, start)}." + (f"\n{flags}" if flags else "")
        )

    @staticmethod
    def _range_around(ranges: tuple[LineRange, ...], line: int) -> str:
        for r in ranges:
            if r.start <= line <= max(r.end, r.start):
                return str(r)
        return describe(list(ranges))

    def replace_text(self, path: str, new_text: str) -> str | None:
        """Accept a whole file saved from an editor if it keeps the fixed lines.

        Each changed range becomes one journaled edit of that range. Returns
        the engine's message, or None when nothing changed.
        """
        with self._lock:
            self._check_open()
            current = self.file_state(path)
            if new_text == current.text:
                return None
            proposed = FileState.from_text(new_text, current.ranges)
            fixed = fixed_segments(list(current.lines), list(current.ranges))
            new_ranges = match_ranges(fixed, list(proposed.lines))
            if new_ranges is None:
                raise EditRefused(self._fixed_violation(path, current, proposed))
            messages = []
            # Later ranges first, so earlier line numbers stay valid.
            for old, new in reversed(list(zip(current.ranges, new_ranges))):
                old_text = current.lines[old.start - 1 : old.end]
                new_lines = proposed.lines[new.start - 1 : new.end]
                if old_text != new_lines:
                    content = "\n".join(new_lines) + ("\n" if new_lines else "")
                    messages.append(self._apply_edit(path, old.start, old.end, content))
        self._changed("edit")
        return "\n".join(reversed(messages)) or None

    def _fixed_violation(self, path: str, current: FileState, proposed: FileState) -> str:
        editable = {n for r in current.ranges for n in range(r.start, r.end + 1)}
        for n, (old, new) in enumerate(zip(current.lines, proposed.lines), start=1):
            if old != new and n not in editable:
                return f"line {n} of {path} is fixed and may not change; editable lines: {describe(list(current.ranges))}"
        return f"the change to {path} alters fixed lines; editable lines: {describe(list(current.ranges))}"

    def undo(self, count: int = 1) -> str:
        with self._lock:
            self._check_open()
            if count < 1:
                raise Refused("undo needs a count of at least 1")
            available = len(self.state.undo_stack)
            if available == 0:
                raise Refused("nothing to undo: no edit since the session began")
            count = min(count, available)
            paths = {path for path, _ in self.state.undo_stack[-count:]}
            for path in paths:
                self._check_disk_matches(path)
            self.record("undo", count=count)
            for path in paths:
                self._write_workspace(path)
        self._changed("undo")
        return "Undo complete:\n" + "\n".join(f"Restored: {p}" for p in sorted(paths))

    def _write_workspace(self, path: str) -> None:
        target = self.workspace / path
        tmp = target.with_name(target.name + ".mlsbench-tmp")
        tmp.write_text(self.state.files[path].text, encoding="utf-8")
        tmp.replace(target)

    def disk_text(self, path: str) -> str:
        return (self.workspace / path).read_text(encoding="utf-8")

    def _check_disk_matches(self, path: str) -> None:
        """The workspace file must be what the journal says; name the difference."""
        state = self.file_state(path)
        try:
            disk = self.disk_text(path)
        except (FileNotFoundError, UnicodeDecodeError) as exc:
            raise Refused(f"{path} in the workspace cannot be read ({exc}); undo or restore it") from None
        if disk == state.text:
            return
        proposed = FileState.from_text(disk, state.ranges)
        if match_ranges(fixed_segments(list(state.lines), list(state.ranges)), list(proposed.lines)) is None:
            raise Refused(
                f"{path} was changed outside the engine and the change touches fixed lines: "
                f"{self._fixed_violation(path, state, proposed)}. Restore those lines, or run "
                f"`mlsbench-tui session sync` after fixing them."
            )
        raise Refused(
            f"{path} was changed outside the engine (inside the editable lines). Record it "
            "first: save it in the app, or run `mlsbench-tui session sync`."
        )

    def sync_from_disk(self) -> list[str]:
        """Record changes saved to the workspace by another editor."""
        messages = []
        for path in self.editable_paths:
            try:
                disk = self.disk_text(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise Refused(f"{path} in the workspace cannot be read ({exc})") from None
            with self._lock:
                message = self.replace_text(path, disk)
            if message:
                messages.append(message)
        return messages

    # -- checks before spending ------------------------------------------------------------
    def integrity_problems(self) -> list[str]:
        """Compare every fixed line with the scaffold, by hash."""
        problems = []
        originals = self._initial_files()
        for f in self.task.files:
            scaffold_path = self.dir / "scaffold" / f.path
            try:
                scaffold = scaffold_path.read_text(encoding="utf-8")
            except OSError as exc:
                problems.append(f"the session's scaffold copy {f.path} is unreadable: {exc}")
                continue
            if sha256_text(scaffold) != originals[f.path]["sha256"]:
                problems.append(f"the session's scaffold copy of {f.path} was modified")
                continue
            if f.path in self.state.files and self.state.files[f.path].ranges:
                problems.extend(self._editable_file_problems(f.path, scaffold, originals[f.path]))
            else:
                try:
                    disk = self.disk_text(f.path)
                except (OSError, UnicodeDecodeError):
                    disk = None
                if disk is None or sha256_text(disk) != originals[f.path]["sha256"]:
                    problems.append(f"{f.path} is a fixed file and differs from the scaffold; restore it")
        return problems

    def _editable_file_problems(self, path: str, scaffold: str, original: dict) -> list[str]:
        ranges = [LineRange(a, b) for a, b in original["ranges"]]
        base = FileState.from_text(scaffold, tuple(ranges))
        state = self.state.files[path]
        expect = [sha256_text("\n".join(s)) for s in fixed_segments(list(base.lines), ranges)]
        got = [sha256_text("\n".join(s)) for s in fixed_segments(list(state.lines), list(state.ranges))]
        if expect != got:
            return [f"{path}: the fixed lines differ from the scaffold (the journal was tampered with?)"]
        try:
            self._check_disk_matches(path)
        except Refused as exc:
            return [str(exc)]
        return []

    def _initial_files(self) -> dict[str, dict]:
        entry = next(e for e in self.journal.entries if e.type == "files_initialised")
        return entry.data["files"]

    def compile_problems(self) -> list[str]:
        problems = []
        for path in self.editable_paths:
            if not path.endswith(".py"):
                continue
            try:
                compile(self.state.files[path].text, path, "exec")
            except SyntaxError as exc:
                where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
                problems.append(f"{path} does not compile: {exc.msg} ({where})")
        return problems

    def command_for(self, setting: Setting) -> str:
        return setting.command.format(
            python=shlex.quote(self.python),
            seed=self.seed,
            profile=self.profile,
            data_root=shlex.quote(self.meta["data_root"]),
        )

    def driver_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PYTHONUNBUFFERED="1", MLSBENCH_DATA=self.meta["data_root"])
        return env

    def preflight(self, run_dir: Path, settings: list[Setting]) -> list[str]:
        """Run each setting's `--check` in run_dir; the failures, as messages."""

        def check(setting: Setting) -> str | None:
            try:
                proc = subprocess.run(
                    self.command_for(setting) + " --check", shell=True, cwd=run_dir,
                    env=self.driver_env(), capture_output=True, text=True,
                    timeout=PREFLIGHT_TIMEOUT, stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired:
                return f"{setting.label}: the preflight check did not finish in {PREFLIGHT_TIMEOUT} s"
            if proc.returncode == 0:
                return None
            text = (proc.stderr.strip() or proc.stdout.strip() or "(no output)").splitlines()
            failed = [line for line in text if "CHECK FAILED" in line]
            shown = "\n".join(failed or text[-12:])
            return f"{setting.label}: preflight failed (exit {proc.returncode}):\n{shown}"

        with ThreadPoolExecutor(max_workers=max(1, len(self.slot_envs))) as pool:
            return [m for m in pool.map(check, settings) if m]

    # -- tests ---------------------------------------------------------------------------
    def start_test(self) -> RunController:
        with self._lock:
            self._check_open()
            if self.state.active_run() is not None:
                raise Refused("a test is already running; wait for it or cancel it")
            if self.state.budget_left <= 0:
                raise Refused("no tests left: all of the test budget is spent; submit one of your tests")
            problems = self.integrity_problems() + self.compile_problems()
            if problems:
                raise Refused("the test was not started (nothing spent):\n" + "\n".join(problems))
            n = len(self.state.tests) + 1
            test_dir = self.dir / "tests" / str(n)
            if test_dir.exists():  # left by a start that died before it was journaled
                shutil.rmtree(test_dir)
            scratch = self.dir / "tests" / f".preflight-{n}"
            shutil.rmtree(scratch, ignore_errors=True)
            self._materialise(scratch)
            settings = self.settings(hidden=False)
        failures = self.preflight(scratch, settings)
        with self._lock:
            if failures:
                shutil.rmtree(scratch, ignore_errors=True)
                raise Refused("the test was not started (nothing spent):\n" + "\n".join(failures))
            test_dir.mkdir(parents=True)
            scratch.rename(test_dir / "run")
            self.record(
                "test_started", n=n, settings=[s.label for s in settings],
                files={p: sha256_text(self.state.files[p].text) for p in self.editable_paths},
            )
            self._changed("test started")
            return self._launch(RunKey("test", n), test_dir / "run", test_dir)

    def _materialise(self, run_dir: Path) -> None:
        """A complete copy of the workspace as the journal says it is."""
        for f in self.task.files:
            target = run_dir / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.path in self.state.files:
                target.write_text(self.state.files[f.path].text, encoding="utf-8")
            else:
                shutil.copyfile(self.dir / "scaffold" / f.path, target)

    def _launch(self, key: RunKey, run_dir: Path, log_dir: Path) -> RunController:
        record = self.state.run(key)
        jobs = []
        for setting in [s for s in self.settings(key.phase == "submit") if s.label in record.settings]:
            done = record.settings[setting.label]
            if done.job_id and done.status not in ENDED and done.runner != self.runner.name:
                raise Refused(
                    f"{setting.label} of {key} runs under the {done.runner} runner; "
                    f"open the session with --runner {done.runner} to follow it"
                )
            write_setting_script(run_dir, setting, self.command_for(setting))
            job = SettingJob(
                setting=setting,
                launch=Launch(
                    setting.label, self.command_for(setting), run_dir,
                    log_path(log_dir, setting.label), exit_path(log_dir, setting.label), self.driver_env(),
                ),
                metrics=SettingMetrics(self.task.metrics, setting),
                job_id=done.job_id,
                started_wall=parse_time(done.started_at),
            )
            if done.status in ENDED:
                job.outcome = JobState(done.status, done.exit_code, done.detail)
                replay_log(job.launch.log_path, job.metrics)
            jobs.append(job)
        self.controller = RunController(self, key, jobs, self.runner, self.slot_envs, self._run_finished)
        self.controller.start()
        return self.controller

    def _run_finished(self, key: RunKey, feedback: str) -> None:
        self.record("run_finished", phase=key.phase, n=key.n, feedback=feedback)
        record = self.state.run(key)
        target = self.dir / ("submit" if key.phase == "submit" else f"tests/{key.n}")
        write_json(target / "results.json", self._run_summary(record))
        self._changed("run finished")

    @staticmethod
    def _run_summary(record: RunRecord) -> dict[str, Any]:
        return {
            "run": str(record.key),
            "settings": {
                s.label: {"status": s.status, "exit_code": s.exit_code, "results": s.results, "detail": s.detail}
                for s in record.settings.values()
            },
        }

    def test(self, timeout: float | None = None) -> str:
        """Run a whole test and return its feedback (blocking)."""
        controller = self.start_test()
        controller.wait(timeout)
        return self.state.tests[-1].feedback or ""

    def cancel(self) -> None:
        with self._lock:
            active = self.state.active_run()
            if active is None or self.controller is None:
                raise Refused("no test is running")
            if not active.cancel_requested:
                self.record("cancel_requested", phase=active.key.phase, n=active.key.n)
        self.controller.cancel()

    def reattach(self) -> RunController | None:
        """After a restart: follow the run that was in progress, if any."""
        active = self.state.active_run()
        if active is None:
            return None
        if active.key.phase == "submit":
            run_dir, log_dir = self.dir / "tests" / str(active.key.n) / "run", self.dir / "submit"
        else:
            run_dir = self.dir / "tests" / str(active.key.n) / "run"
            log_dir = run_dir.parent
        controller = self._launch(active.key, run_dir, log_dir)
        if active.cancel_requested:
            controller.cancel()
        return controller

    # -- submission -------------------------------------------------------------------------
    def start_submit(self, n: int) -> RunController:
        with self._lock:
            self._check_open()
            if self.state.active_run() is not None:
                raise Refused("a test is running; wait for it to finish or cancel it before submitting")
            if not 1 <= n <= len(self.state.tests):
                tested = len(self.state.tests)
                raise Refused(
                    f"there is no test #{n} to submit; "
                    + (f"choose 1..{tested}" if tested else "run a test first")
                )
            record = self.state.tests[n - 1]
            run_dir = self.dir / "tests" / str(n) / "run"
            for path, digest in record.files.items():
                if sha256_text((run_dir / path).read_text(encoding="utf-8")) != digest:
                    raise Refused(f"test #{n}'s snapshot of {path} was modified after it ran; it cannot be submitted")
            hidden = self.settings(hidden=True)
            record_submit_flags(self, n, run_dir)
        failures = self.preflight(run_dir, hidden)
        with self._lock:
            if failures:
                raise Refused("the submission was not started:\n" + "\n".join(failures))
            (self.dir / "submit").mkdir(exist_ok=True)
            self.record("submit_started", n=n, settings=[s.label for s in hidden])
            self._changed("submit started")
            return self._launch(RunKey("submit", n), run_dir, self.dir / "submit")

    def submit(self, n: int, timeout: float | None = None) -> str:
        controller = self.start_submit(n)
        controller.wait(timeout)
        return self.state.submission.feedback if self.state.submission else ""

    def final_results(self) -> dict[str, str]:
        """The submitted test's visible results plus the hidden ones."""
        sub = self.state.submission
        if sub is None:
            return {}
        return {**self.state.tests[sub.key.n - 1].results(), **sub.results()}
