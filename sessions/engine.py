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

from sessions.errors import Refused, StorageError, storage_error
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
from sessions.processes import JOB_TOKEN, is_our_group, kill_group
from sessions.ranges import EditRefused, content_lines, describe, edit_content, fixed_segments, match_ranges
from sessions.runner import JobState, Launch, LocalRunner, Runner
from sessions.slots import detect_slots
from sessions.state import FileState, RunRecord, SessionState, sha256_text
from sessions.store import (
    JOURNAL,
    copy_of,
    default_data_root,
    folder_problem,
    new_session_id,
    unjournaled_start,
    write_json,
)
from tasks.spec import LineRange, Setting, TaskSpec

PREFLIGHT_TIMEOUT = 300  # seconds for one setting's --check
PREFLIGHT_GROUPS = "preflight.pids"  # process groups of running checks, killed by the next start
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
        self.writable = writable
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
        # True while a test or submission is being journaled and launched: an interrupt
        # then must not cut it half-way (the CLI cancels the run once it is launched).
        self.committing = False
        self._preflight_groups: set[int] = set()
        self._lock_fd: int | None = None  # the folder lock, held while open to write
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
            return cls._create_in(directory, task, profile, seed, (data_root or default_data_root()).resolve(),
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
            session_id=directory.name,
            folder=str(directory),  # a copy of the folder is told by it: see store.copy_of
            task_id=task.id,
            title=task.title,
            profile=profile,
            seed=seed,
            data_root=str(data_root),
            test_budget=task.test_budget,
            person=person or os.environ.get("USER", ""),
            # a list: the journal sorts object keys, and settings keep the task's order
            settings=[{"label": s.label, "command": s.command, "hidden": s.hidden} for s in task.settings],
        )
        journal.append("files_initialised", files=files)
        session = cls(directory, task, journal, **options)
        session._lock_fd = _lock_folder(directory)
        return session

    @classmethod
    def open(cls, directory: Path, task: TaskSpec, **options: Any) -> Session:
        """Open a session to work in it: it must be the original, consistent, and free."""
        directory = directory.resolve()
        lock_fd = _lock_folder(directory)  # before the journal: its torn last line may be cut
        try:
            journal = Journal(directory / JOURNAL)
            if not journal.entries:
                raise Refused(f"{directory / JOURNAL} is empty: there is no session to resume here")
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
        journal = Journal(directory.resolve() / JOURNAL, writable=False)
        if not journal.entries:
            raise Refused(f"{directory / JOURNAL} is empty: there is no session here")
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
        self._end_leftover_preflights()
        for record in self.state.tests:  # journaled, but killed before its folder was moved in
            scratch, run_dir = self._scratch_dir(record.key.n), self.dir / "tests" / str(record.key.n) / "run"
            if scratch.is_dir() and not run_dir.exists():
                run_dir.parent.mkdir(parents=True, exist_ok=True)
                scratch.rename(run_dir)
        notes = [self.journal.warning] if self.journal.warning else []
        for path in self.editable_paths:
            tmp = self._workspace_tmp(path)
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
        if not self.writable:
            raise Refused(f"session {self.id} is open here only to read; nothing can change through this view")
        if self.state.closed:
            raise Refused(f"session {self.id} is closed: test #{self.state.submitted_test} was submitted")
        if self.state.read_only:
            raise Refused(
                f"session {self.id} is read-only: test #{self.state.submitted_test} is being submitted "
                "(its hidden settings are running); nothing can change any more"
            )

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
            new_text = edit_content(new_text, path)
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

    def _workspace_tmp(self, path: str) -> Path:
        target = self.workspace / path
        return target.with_name(target.name + ".mlsbench-tmp")

    def _write_workspace(self, path: str) -> None:
        """Bring the workspace file to the journal's text (after the journal has it)."""
        tmp = self._workspace_tmp(path)
        try:
            tmp.write_text(self.state.files[path].text, encoding="utf-8")
            tmp.replace(self.workspace / path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise storage_error(
                exc, self.workspace / path,
                "The change is in the journal, but the workspace file still holds the text before it; "
                "the next start writes it",
            ) from None

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
        self._check_open()
        fixed = self._fixed_file_problems()
        if fixed:
            raise Refused("nothing was recorded: " + "; ".join(fixed) + " (sync records edits of the editable lines only)")
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
        return problems + self._fixed_file_problems()

    def _fixed_file_problems(self) -> list[str]:
        """Fixed files (no editable lines) in the workspace that differ from the scaffold."""
        problems = []
        originals = self._initial_files()
        for f in self.task.files:
            if f.path in self.state.files and self.state.files[f.path].ranges:
                continue
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
                if exc.lineno is None:  # Python gives no position for some errors
                    problems.append(f"{path} does not compile: {exc.msg}")
                    continue
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
        """Run each setting's `--check` in run_dir; the failures, as messages.

        Each check runs in its own process group, killed whole when it ends, times
        out or is interrupted; the groups are listed in a file so that the next
        start kills those a killed engine left running.
        """

        def check(setting: Setting) -> str | None:
            proc = subprocess.Popen(
                self.command_for(setting) + " --check", shell=True, cwd=run_dir,
                env={**self.driver_env(), JOB_TOKEN: f"preflight {self.dir}"},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                text=True, errors="replace", start_new_session=True,
            )
            self._track_preflight(proc.pid, add=True)
            try:
                out, err = proc.communicate(timeout=PREFLIGHT_TIMEOUT)
            except subprocess.TimeoutExpired:
                return f"{setting.label}: the preflight check did not finish in {PREFLIGHT_TIMEOUT} s"
            finally:
                self._end_preflight(proc)
            if proc.returncode == 0:
                return None
            text = (err.strip() or out.strip() or "(no output)").splitlines()
            failed = [line for line in text if "CHECK FAILED" in line]
            shown = "\n".join(failed or text[-12:])
            return f"{setting.label}: preflight failed (exit {proc.returncode}):\n{shown}"

        pool = ThreadPoolExecutor(max_workers=max(1, len(self.slot_envs)))
        try:
            return [m for m in pool.map(check, settings) if m]
        except BaseException:  # interrupted: stop every check before waiting for the threads
            for pgid in list(self._preflight_groups):
                kill_group(pgid)
            raise
        finally:
            pool.shutdown(wait=True)

    def _end_preflight(self, proc: subprocess.Popen) -> None:
        kill_group(proc.pid)  # the check and anything it started
        proc.wait()
        self._track_preflight(proc.pid, add=False)

    def _track_preflight(self, pgid: int, add: bool) -> None:
        with self._lock:
            (self._preflight_groups.add if add else self._preflight_groups.discard)(pgid)
            listing = self.dir / PREFLIGHT_GROUPS
            try:
                if self._preflight_groups:
                    listing.write_text("".join(f"{g}\n" for g in sorted(self._preflight_groups)))
                else:
                    listing.unlink(missing_ok=True)
            except OSError:
                pass  # only a cleanup aid: the checks themselves are killed when they end

    def _end_leftover_preflights(self) -> None:
        """Kill the checks of a preflight whose engine was killed (kill -9, power cut)."""
        listing = self.dir / PREFLIGHT_GROUPS
        try:
            groups = [int(line) for line in listing.read_text().split() if line.isdigit()]
        except OSError:
            return
        token = f"preflight {self.dir}"
        for pgid in groups:
            if is_our_group(pgid, token):
                kill_group(pgid)
        listing.unlink(missing_ok=True)

    # -- tests ---------------------------------------------------------------------------
    def _scratch_dir(self, n: int) -> Path:
        return self.dir / "tests" / f".preflight-{n}"

    def _snapshot_hashes(self) -> dict[str, str]:
        """What every file of a test's snapshot must hash to: the journal's text for
        editable files, the scaffold's for fixed ones."""
        initial = self._initial_files()
        return {
            f.path: sha256_text(self.state.files[f.path].text) if f.path in self.state.files else initial[f.path]["sha256"]
            for f in self.task.files
        }

    @staticmethod
    def _snapshot_differences(run_dir: Path, expected: dict[str, str]) -> list[str]:
        problems = []
        for path, digest in expected.items():
            try:
                text = (run_dir / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{path} is missing or unreadable ({exc.__class__.__name__})")
                continue
            if sha256_text(text) != digest:
                problems.append(f"{path} was modified")
        return problems

    def snapshot_problem(self, key: RunKey) -> str | None:
        """Why the snapshot key runs on differs from what was tested (None: it is intact)."""
        record = self.state.tests[key.n - 1]
        run_dir = self.dir / "tests" / str(key.n) / "run"
        problems = self._snapshot_differences(run_dir, record.files)
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
            problems = self.integrity_problems() + self.compile_problems()
            if problems:
                raise Refused("the test was not started (nothing spent):\n" + "\n".join(problems))
            n = len(self.state.tests) + 1
            test_dir = self.dir / "tests" / str(n)
            if unjournaled_start(test_dir):  # kept aside, never deleted
                test_dir.rename(test_dir.with_name(f".unjournaled-{n}-{new_session_id()}"))
            if test_dir.exists():  # never replaced: a folder the journal does not know is refused on open
                raise Refused(f"{test_dir} already exists, though the journal records {n - 1} test(s); "
                              "nothing was spent or changed")
            scratch = self._scratch_dir(n)
            expected = self._snapshot_hashes()
            try:
                shutil.rmtree(scratch, ignore_errors=True)
                self._materialise(scratch)
            except OSError as exc:
                shutil.rmtree(scratch, ignore_errors=True)
                raise storage_error(exc, scratch, "The test was not started (nothing spent)") from None
            settings = self.settings(hidden=False)
        failures = self.preflight(scratch, settings)
        with self._lock:
            failures += [f"the snapshot changed during the preflight: {p}"
                         for p in self._snapshot_differences(scratch, expected)]
            if failures:
                shutil.rmtree(scratch, ignore_errors=True)
                raise Refused("the test was not started (nothing spent):\n" + "\n".join(failures))
            self.committing = True
            try:
                self.record("test_started", n=n, settings=[s.label for s in settings], files=expected)
                test_dir.mkdir(parents=True)
                scratch.rename(test_dir / "run")
                self._changed("test started")
                return self._launch(RunKey("test", n), test_dir / "run", test_dir)
            finally:
                self.committing = False

    def _materialise(self, run_dir: Path) -> None:
        """A complete copy of the workspace as the journal says it is, its files read-only."""
        for f in self.task.files:
            target = run_dir / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.path in self.state.files:
                target.write_text(self.state.files[f.path].text, encoding="utf-8")
            else:
                shutil.copyfile(self.dir / "scaffold" / f.path, target)
            target.chmod(0o444)

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
        if record.cancel_requested:  # asked for before this process followed the run
            self.controller.cancel()
        return self.controller

    def _run_finished(self, key: RunKey, feedback: str) -> None:
        self.record("run_finished", phase=key.phase, n=key.n, feedback=feedback)
        record = self.state.run(key)
        target = self.dir / ("submit" if key.phase == "submit" else f"tests/{key.n}")
        try:
            write_json(target / "results.json", self._run_summary(record))
        except OSError as exc:
            raise storage_error(exc, target / "results.json",
                                f"The result of {key} is in the journal, but its results.json was not written") from None
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
        return self._launch(active.key, run_dir, log_dir)

    # -- submission -------------------------------------------------------------------------
    def start_submit(self, n: int) -> RunController:
        with self._lock:
            self._check_open()
            active = self.state.active_run()
            if active is not None:
                raise self._active_run_refusal(active)
            if not 1 <= n <= len(self.state.tests):
                tested = len(self.state.tests)
                raise Refused(
                    f"there is no test #{n} to submit; "
                    + (f"choose 1..{tested}" if tested else "run a test first")
                )
            run_dir = self.dir / "tests" / str(n) / "run"
            problem = self.snapshot_problem(RunKey("test", n))
            if problem:
                raise Refused(f"{problem}; it cannot be submitted (nothing was changed)")
            hidden = self.settings(hidden=True)
            record_submit_flags(self, n, run_dir)
        failures = self.preflight(run_dir, hidden)
        with self._lock:
            problem = self.snapshot_problem(RunKey("test", n))
            if failures or problem:
                raise Refused("the submission was not started:\n" + "\n".join(failures + [problem] * bool(problem)))
            self.committing = True
            try:
                self.record("submit_started", n=n, settings=[s.label for s in hidden])
                (self.dir / "submit").mkdir(exist_ok=True)
                self._changed("submit started")
                return self._launch(RunKey("submit", n), run_dir, self.dir / "submit")
            finally:
                self.committing = False

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


def _lock_folder(directory: Path) -> int:
    """Hold the session folder's kernel lock (flock on the folder itself): one writer at a time."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        raise Refused(f"{directory} does not exist: there is no session there") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise Refused(
            f"session {directory.name} is open in another mlsbench-tui process (the app, or a test "
            "being followed); close that one first. `session status` works meanwhile"
        ) from None
    return fd
