"""The session engine: one person's attempt at one task, under the agents' rules.

    session = Session.create(task, sessions_dir=..., profile="demo")
    session.edit("pytorch-vision/custom_mtl.py", 195, 216, new_text)
    feedback = session.test()          # or start_test() and follow events
    session.submit(1)

Every change goes through `record()`: a journal entry first, then the same
entry applied to the in-memory state; so a killed app resumes exactly.

One process at a time writes a session: it holds a kernel lock (flock) on the
session folder itself, released by the kernel when the process dies, so a
stale lock cannot exist and no file can be deleted to get around it.
`Session.view()` reads a session without the lock (status, listings).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from sessions import integrity
from sessions.disk_sync import DiskReconciled, reconcile_disk, sync_outcomes
from sessions.errors import Refused, StorageError, storage_error
from sessions.events import ENDED, LogLines, RunKey, SessionChanged
from sessions.execution import RunController, RunHooks, setting_job, write_setting_script
from sessions.flags import record_edit_flags, record_submit_flags
from sessions.folder import SessionFolder
from sessions.journal import Journal
from sessions.metrics import SettingMetrics
from sessions.preflight import DriverCommands, Preflight
from sessions.ranges import EditRefused, content_lines, edit_content, range_around
from sessions.runner import Launch, LocalRunner, Runner
from sessions.settings import current_settings
from sessions.slots import detect_slots
from sessions.state import FileState, RunRecord, SessionState, sha256_text
from sessions.store import copy_of, folder_problem, new_session_id, unjournaled_start, write_json
from tasks.spec import LineRange, Setting, TaskSpec

SEED_RANGE = range(0, 2**32)  # what numpy's and torch's seeding accept alike


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
        writable: bool = True,
    ):
        self.dir, self.task, self.journal = directory, task, journal
        self.folder = SessionFolder(directory)
        self.writable = writable
        self.runner: Runner = runner or LocalRunner()
        self.slot_envs = slots or detect_slots()
        self.python = python or current_settings().python or sys.executable
        self.state = SessionState()
        self._lock = threading.RLock()
        # Each subscriber with the most log lines it takes per LogLines event (None: all).
        self._subscribers: list[tuple[Callable[[Any], None], int | None]] = []
        self.controller: RunController | None = None
        # True while a test or submission is being journaled and launched: an interrupt
        # then must not cut it half-way (the CLI cancels the run once it is launched).
        self.committing = False
        self._lock_fd: int | None = None  # the folder lock, held while open to write
        self._preflight_runner: Preflight | None = None
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
        seed = task.default_seed if seed is None else seed
        if seed not in SEED_RANGE:
            raise Refused(f"seed {seed} is out of range: give a whole number from 0 to {SEED_RANGE.stop - 1}")
        missing = task.missing_sources()
        if missing:
            raise Refused(
                f"task {task.id} is not runnable yet: its scaffold files are missing "
                f"({', '.join(str(p) for p in missing)})"
            )
        # Absolute once, here: jobs run inside the test folder, where a relative path means another place.
        directory = sessions_dir.resolve() / task.id / new_session_id()
        try:
            return cls._create_in(directory, task, profile, seed, (data_root or current_settings().data_root).resolve(),
                                  person, options)
        except OSError as exc:
            shutil.rmtree(directory, ignore_errors=True)
            raise storage_error(exc, directory, "The session was not created and nothing of it was kept") from None
        except StorageError as exc:
            shutil.rmtree(directory, ignore_errors=True)
            raise StorageError(f"{exc} The half-made session folder was removed.") from None

    @classmethod
    def _create_in(cls, directory: Path, task: TaskSpec, profile: str, seed: int, data_root: Path,
                   person: str, options: dict[str, Any]) -> Session:
        folder = SessionFolder(directory)
        files = folder.lay_out(task)
        journal = Journal(folder.journal)
        journal.append(
            "session_created",
            session_id=directory.name,
            folder=str(directory),  # a copy of the folder is told by it: see store.copy_of
            task_id=task.id,
            title=task.title,
            profile=profile,
            seed=seed,
            data_root=str(data_root),
            test_budget=task.test_budget,
            person=person or current_settings().player_name,
            # a list: the journal sorts object keys, and settings keep the task's order
            settings=[{"label": s.label, "command": s.command, "hidden": s.hidden} for s in task.settings],
        )
        journal.append("files_initialised", files=files)
        session = cls(directory, task, journal, **options)
        session._lock_fd = folder.lock()
        return session

    @classmethod
    def open(cls, directory: Path, task: TaskSpec, **options: Any) -> Session:
        """Open a session to work in it: it must be the original, consistent, and free."""
        directory = directory.resolve()
        folder = SessionFolder(directory)
        lock_fd = folder.lock()  # before the journal: its torn last line may be cut
        try:
            journal = Journal(folder.journal)
            if not journal.entries:
                raise Refused(f"{folder.journal} is empty: there is no session to resume here")
            session = cls(directory, task, journal, **options)
            session._lock_fd = lock_fd
            session._check_is_the_original()
            problem = folder_problem(directory, session.state)
            if problem:
                raise Refused(f"session {session.id} is inconsistent: {problem}.")
        except BaseException:
            os.close(lock_fd)
            raise
        session._recover()
        return session

    @classmethod
    def view(cls, directory: Path, task: TaskSpec, **options: Any) -> Session:
        """Read a session without taking it: works while another process has it open."""
        folder = SessionFolder(directory.resolve())
        journal = Journal(folder.journal, writable=False)
        if not journal.entries:
            raise Refused(f"{folder.journal} is empty: there is no session here")
        return cls(directory.resolve(), task, journal, writable=False, **options)

    def _check_is_the_original(self) -> None:
        original = copy_of(self.dir, self.meta, self.journal.identity or "")
        if original:
            raise Refused(
                f"{self.dir} is a copy of session {original}, which is still at {self.meta['folder']}; "
                "a copy cannot take edits or tests, or it would fork the session and its budget. "
                f"Open session {original} itself; `session status` still reads this copy."
            )

    def _recover(self) -> None:
        """Tidy what a killed process left: its preflight checks, a half-finished start,
        a workspace file the journal is ahead of."""
        self._preflight().end_leftovers()
        for record in self.state.tests:  # journaled, but killed before its folder was moved in
            scratch, run_dir = self.folder.scratch_dir(record.key.n), self.folder.run_dir(record.key.n)
            if scratch.is_dir() and not run_dir.exists():
                run_dir.parent.mkdir(parents=True, exist_ok=True)
                scratch.rename(run_dir)
        for record in self.state.runs:  # finished in the journal, but the disk was full for its results
            target = self.folder.results_path(record.key)
            if record.finished and target.parent.is_dir() and not target.exists():
                try:
                    write_json(target, record.summary())
                except OSError:
                    pass  # still no room: the journal holds the result, the next start tries again
        notes = [self.journal.warning] if self.journal.warning else []
        for path in self.editable_paths:
            tmp = self.folder.workspace_tmp(path)
            if tmp.exists():
                tmp.unlink()
            try:
                disk = self.disk_text(path)
            except (OSError, UnicodeDecodeError):
                continue
            if disk != self.state.files[path].text and disk == self.state.previous_texts.get(path):
                self._write_workspace(path)
                notes.append(f"{path}: the workspace was behind the journal (the app stopped between "
                             "the two writes); it now holds the journal's last edit")
        for note in notes:
            self.record("note", text=note)

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
        if self.writable and self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

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
        return self.folder.workspace

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
    def subscribe(self, callback: Callable[[Any], None], lines_per_event: int | None = None) -> None:
        """Call `callback` with every event. lines_per_event: at most this many log lines per
        LogLines event (the earlier ones are counted as skipped; 0: none, for a view that reads
        the log file itself), so that it pays no per-line work for a driver printing flat out."""
        if lines_per_event is not None and lines_per_event < 0:
            raise ValueError(f"lines_per_event must be 0 or more (or None for all), not {lines_per_event}")
        self._subscribers.append((callback, lines_per_event))

    def emit(self, event: Any) -> None:
        for callback, limit in list(self._subscribers):
            try:
                callback(event.last(limit) if isinstance(event, LogLines) else event)
            except Exception as exc:  # a broken view must not stop a test
                print(f"mlsbench-tui: event subscriber failed: {exc!r}", file=sys.stderr)

    def _widest_line_limit(self) -> int | None:
        """The most lines a LogLines event needs to carry for every subscriber."""
        limits = [limit for _, limit in self._subscribers]
        return None if not limits or None in limits else max(limits)  # type: ignore[type-var]

    def record(self, type_: str, **data: Any) -> None:
        with self._lock:
            entry = self.journal.append(type_, **data)
            self.state.apply(entry.type, entry.data, entry.time)

    def _changed(self, reason: str) -> None:
        self.emit(SessionChanged(reason))

    # -- edits -------------------------------------------------------------------------
    def _check_open(self, working: bool = True) -> None:  # working: an edit or a test (see worktime)
        if not self.writable:
            raise Refused(f"session {self.id} is open here only to read; nothing can change through this view")
        if self.state.closed:
            raise Refused(f"session {self.id} is closed: test #{self.state.submitted_test} was submitted")
        if self.state.read_only:
            raise Refused(f"session {self.id} is read-only: test #{self.state.submitted_test} is being submitted "
                          "(its hidden settings are running); nothing can change any more")
        if working and self.state.work.refusal():
            raise Refused(f"session {self.id}: {self.state.work.refusal()}")

    def edit(self, path: str, start: int, end: int, content: str) -> str:
        """Replace lines start..end (inclusive) of an editable file."""
        with self._lock:
            self._check_open()
            self.file_state(path)
            content = edit_content(content, path)
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
            f"Editable range: {range_around(after.ranges, start)}." + (f"\n{flags}" if flags else "")
        )

    def replace_text(self, path: str, new_text: str) -> str | None:
        """Accept a whole file saved from an editor if it keeps the fixed lines.

        Each changed range becomes one journaled edit of that range. Returns
        the engine's message, or None when nothing changed.
        """
        with self._lock:
            self._check_open()
            current = self.file_state(path)
            new_text = edit_content(new_text, path)
            if new_text == current.text:
                return None
            proposed = integrity.keeps_fixed_lines(current, new_text)
            if proposed is None:
                raise EditRefused(integrity.fixed_violation(path, current, FileState.from_text(new_text, current.ranges)))
            messages = []
            # Later ranges first, so earlier line numbers stay valid.
            for old, new in reversed(list(zip(current.ranges, proposed.ranges))):
                old_text = current.lines[old.start - 1 : old.end]
                new_lines = proposed.lines[new.start - 1 : new.end]
                if old_text != new_lines:
                    content = "\n".join(new_lines) + ("\n" if new_lines else "")
                    messages.append(self._apply_edit(path, old.start, old.end, content))
        self._changed("edit")
        return "\n".join(reversed(messages)) or None

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
        """Bring the workspace file to the journal's text (after the journal has it)."""
        tmp, target = self.folder.workspace_tmp(path), self.folder.workspace_file(path)
        try:
            tmp.write_text(self.state.files[path].text, encoding="utf-8")
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise storage_error(
                exc, target,
                "The change is in the journal, but the workspace file still holds the text before it; "
                "the next start writes it",
            ) from None

    def disk_text(self, path: str) -> str:
        return self.folder.workspace_file(path).read_text(encoding="utf-8")

    def _check_disk_matches(self, path: str) -> None:
        """The workspace file must be what the journal says; name the difference."""
        integrity.refuse_mismatch(path, self.file_state(path), self.folder)

    def reconcile_disk(self, path: str, unsaved: str | None = None) -> DiskReconciled:
        """Record what another editor saved to a workspace file, or put the file back (see disk_sync)."""
        self.file_state(path)
        with self._lock:
            return reconcile_disk(self, path, unsaved)

    def restore_workspace_file(self, path: str) -> None:
        """Put a workspace file back to the journal's text."""
        self._write_workspace(path)

    def sync_from_disk(self) -> list[str]:
        """Record changes saved to the workspace by another editor (refused ones are put back)."""
        self._check_open()
        fixed = integrity.fixed_file_problems(self.task, self.folder, self.state, self._initial_files())
        if fixed:
            raise Refused("nothing was recorded: " + "; ".join(fixed) + " (sync records edits of the editable lines only)")
        return sync_outcomes([self.reconcile_disk(path) for path in self.editable_paths])

    # -- checks before spending ------------------------------------------------------------
    def compile_problems(self) -> list[str]:
        return integrity.compile_problems(self.state.files)

    def _initial_files(self) -> integrity.InitialFiles:
        entry = next(e for e in self.journal.entries if e.type == "files_initialised")
        return entry.data["files"]

    def _commands(self) -> DriverCommands:
        return DriverCommands(self.python, self.seed, self.profile, self.meta["data_root"])

    def _preflight(self) -> Preflight:
        if self._preflight_runner is None:
            self._preflight_runner = Preflight(self.folder, self._commands(), len(self.slot_envs))
        return self._preflight_runner

    # -- tests ---------------------------------------------------------------------------
    def snapshot_problem(self, key: RunKey) -> str | None:
        """Why the snapshot key runs on differs from what was tested (None: it is intact)."""
        record = self.state.tests[key.n - 1]
        problems = integrity.snapshot_differences(self.folder.run_dir(key.n), record.files)
        if problems:
            return f"test #{key.n}'s snapshot changed after the test started: {'; '.join(problems)}"
        return None

    def _active_run_refusal(self, active: RunRecord) -> Refused:
        if active.unfinished():
            return Refused(f"{active.key} is still running; follow it with `mlsbench-tui session wait` "
                           "(or in the app), or cancel it")
        return Refused(f"{active.key} has ended but its result was not recorded (the app stopped); "
                       "`mlsbench-tui session wait` records it")

    def start_test(self) -> RunController:
        with self._lock:
            self._check_open()
            active = self.state.active_run()
            if active is not None:
                raise self._active_run_refusal(active)
            if self.state.budget_left <= 0:
                raise Refused("no tests left: all of the test budget is spent; submit one of your tests")
            problems = integrity.integrity_problems(self.task, self.folder, self.state, self._initial_files())
            problems += self.compile_problems()
            if problems:
                raise Refused("the test was not started (nothing spent):\n" + "\n".join(problems))
            n = len(self.state.tests) + 1
            test_dir = self.folder.test_dir(n)
            if unjournaled_start(test_dir):  # kept aside, never deleted
                test_dir.rename(self.folder.unjournaled_dir(n, new_session_id()))
            if test_dir.exists():  # never replaced: a folder the journal does not know is refused on open
                raise Refused(f"{test_dir} already exists, though the journal records {n - 1} test(s); "
                              "nothing was spent or changed")
            scratch = self.folder.scratch_dir(n)
            expected = integrity.snapshot_hashes(self.task, self.state, self._initial_files())
            try:
                shutil.rmtree(scratch, ignore_errors=True)
                integrity.write_snapshot(self.task, self.state, self.folder, scratch)
            except OSError as exc:
                shutil.rmtree(scratch, ignore_errors=True)
                raise storage_error(exc, scratch, "The test was not started (nothing spent)") from None
            settings = self.settings(hidden=False)
        failures = self._preflight().run(scratch, settings)
        with self._lock:
            failures += [f"the snapshot changed during the preflight: {p}"
                         for p in integrity.snapshot_differences(scratch, expected)]
            if failures:
                shutil.rmtree(scratch, ignore_errors=True)
                raise Refused("the test was not started (nothing spent):\n" + "\n".join(failures))
            self.committing = True
            try:
                self.record("test_started", n=n, settings=[s.label for s in settings], files=expected)
                test_dir.mkdir(parents=True)
                scratch.rename(self.folder.run_dir(n))
                self._changed("test started")
                return self._launch(RunKey("test", n))
            finally:
                self.committing = False

    def _launch(self, key: RunKey) -> RunController:
        """Follow a journaled run: its jobs run in the test's snapshot, whichever the phase."""
        record, run_dir, commands = self.state.run(key), self.folder.run_dir(key.n), self._commands()
        jobs = []
        for setting in [s for s in self.settings(key.phase == "submit") if s.label in record.settings]:
            done = record.settings[setting.label]
            if done.job_id and done.status not in ENDED and done.runner != self.runner.name:
                raise Refused(
                    f"{setting.label} of {key} runs under the {done.runner} runner; "
                    f"open the session with --runner {done.runner} to follow it"
                )
            command = commands.command_for(setting)
            write_setting_script(run_dir, setting, command)
            launch = Launch(setting.label, command, run_dir, self.folder.log_path(key, setting.label),
                            self.folder.exit_path(key, setting.label), commands.env(), self.folder.channel(key, done))
            jobs.append(setting_job(setting, launch, SettingMetrics(self.task.metrics, setting), done))
        hooks = RunHooks(
            record=self.record, emit=self.emit, budget_left=lambda: self.state.budget_left,
            snapshot_problem=self.snapshot_problem, lines_per_event=self._widest_line_limit,
            finished=self._run_finished,
        )
        self.controller = RunController(hooks, key, jobs, self.runner, self.slot_envs)
        self.controller.start()
        if record.cancel_requested:  # asked for before this process followed the run
            self.controller.cancel()
        return self.controller

    def _run_finished(self, key: RunKey, feedback: str) -> None:
        self.record("run_finished", phase=key.phase, n=key.n, feedback=feedback)
        target = self.folder.results_path(key)
        try:
            write_json(target, self.state.run(key).summary())
        except OSError as exc:
            raise storage_error(exc, target, f"The result of {key} is in the journal, but its results.json "
                                             "was not written (the next start writes it)") from None
        self._changed("run finished")

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
        return self._launch(active.key)

    # -- submission -------------------------------------------------------------------------
    def start_submit(self, n: int) -> RunController:
        with self._lock:
            self._check_open(working=False)
            active = self.state.active_run()
            if active is not None:
                raise self._active_run_refusal(active)
            if not 1 <= n <= len(self.state.tests):
                tested = len(self.state.tests)
                raise Refused(
                    f"there is no test #{n} to submit; "
                    + (f"choose 1..{tested}" if tested else "run a test first")
                )
            run_dir = self.folder.run_dir(n)
            problem = self.snapshot_problem(RunKey("test", n))
            if problem:
                raise Refused(f"{problem}; it cannot be submitted (nothing was changed)")
            hidden = self.settings(hidden=True)
            record_submit_flags(self, n, run_dir)
        failures = self._preflight().run(run_dir, hidden)
        with self._lock:
            problem = self.snapshot_problem(RunKey("test", n))
            if failures or problem:
                raise Refused("the submission was not started:\n" + "\n".join(failures + [problem] * bool(problem)))
            self.committing = True
            try:
                self.record("submit_started", n=n, settings=[s.label for s in hidden])
                self.folder.submit.mkdir(exist_ok=True)
                self._changed("submit started")
                return self._launch(RunKey("submit", n))
            finally:
                self.committing = False

    def submit(self, n: int, timeout: float | None = None) -> str:
        controller = self.start_submit(n)
        controller.wait(timeout)
        return self.state.submission.feedback if self.state.submission else ""

    def final_results(self) -> dict[str, str]:
        """The submitted test's visible results plus the hidden ones."""
        return self.state.final_results()


