"""Checking a session archive against this installation's task, check by check.

    verdict = verify_archive(path, catalog)
    verdict.ok, verdict.checks   # each Check: name, ok, detail

The journal is replayed with the same `SessionState` the engine resumes
with, starting from this installation's scaffold (not the archive's copy),
and every stored metrics file (or, for runs from before the metrics
channel, log) is parsed again with the engine's `SettingMetrics`.
What this cannot catch: a person who rewrites the whole session
consistently (journal, snapshots and logs) or editable code that wrote into
the metrics channel itself while it ran. Re-scoring the submission settles those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.archive import (
    MANIFEST,
    Archive,
    ArchiveError,
    file_sha256,
    final_results,
    open_archive,
)
from sessions.events import DONE, ENDED
from sessions.execution import replay_log
from sessions.folder import JOURNAL, SessionFolder
from sessions.flags import Flag, snapshot_flags
from sessions.journal import Entry, JournalCorrupt, journal_identity, read_journal
from sessions.metrics import SettingMetrics
from sessions.notes import NOTE
from sessions.ranges import EditRefused, fixed_segments
from sessions.runner import read_exit_file
from sessions.state import FileState, ReplayMismatch, RunRecord, SessionState, sha256_text
from tasks import Catalog, TaskSpecError, UnknownTask
from sessions.worktime import WorkLog
from tasks.spec import Setting, TaskSpec

CHECKS = (
    ("archive", "the archive's files are the ones its manifest lists"),
    ("hash chain", "the journal's hash chain is intact"),
    ("task", "the task and its scaffold are this installation's"),
    ("edits", "replaying the journal on this scaffold reproduces every edit's hash"),
    ("editable lines", "only editable lines changed"),
    ("budget", "the test budget was never exceeded"),
    ("snapshots", "every test's snapshot is the file that was tested"),
    ("working time", "the clock's entries hold together, no work while paused or past the time limit"),
    ("submission", "a tested snapshot was submitted and nothing changed after"),
    ("results", "each result is what the stored metrics file (or older log) implies"),
)
MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError, AssertionError, OSError)
# What may still be journaled once a submission started: its run, and remarks.
AFTER_SUBMIT = {"setting_started", "setting_finished", "run_finished", "cancel_requested", "note", "flags",
                NOTE, "clock_tick", "clock_stopped"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ran: bool = True  # False: an earlier failure left nothing to check


@dataclass
class Verdict:
    path: Path
    checks: list[Check] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    state: SessionState | None = None
    flags: list[Flag] = field(default_factory=list)  # found again in the submitted snapshot
    identity: str = ""  # the session's identity: its journal's first line, hashed
    notes: list[str] = field(default_factory=list)  # facts for the reader, not failures

    @property
    def ok(self) -> bool:
        return len(self.checks) == len(CHECKS) and all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def reason(self) -> str:
        return "; ".join(f"{c.name}: {c.detail}" for c in self.failures())

    def final_results(self) -> dict[str, str]:
        return final_results(self.state) if self.state is not None else {}


class _Checker:
    """Runs the checks in order; a check that cannot run says what it depends on."""

    def __init__(self, archive: Archive, catalog: Catalog, verdict: Verdict):
        self.archive, self.catalog, self.verdict = archive, catalog, verdict
        self.root = archive.root
        self.folder = SessionFolder(archive.root)  # an extracted archive has a session folder's layout
        self.problems: dict[str, list[str]] = {name: [] for name, _ in CHECKS}
        self.entries: list[Entry] = []
        self.task: TaskSpec | None = None
        self.scaffold: dict[str, str] = {}  # path -> this installation's text
        self.state = SessionState()
        self.blocked: str | None = None  # why the later checks could not run

    def run(self) -> None:
        ran = ["archive", "hash chain"]
        self.guarded("archive", self.check_members)
        self.guarded("hash chain", self.read_chain)
        if self.blocked is None:
            ran.append("task")
            self.guarded("task", self.check_task)
        if self.blocked is None:
            ran = [name for name, _ in CHECKS]
            self.guarded("edits", self.replay)
            self.guarded("budget", self.check_budget)
            self.guarded("snapshots", self.check_snapshots)
            self.guarded("submission", self.check_submission)
            self.guarded("results", self.check_results)
            self.guarded("working time", self.check_work_time)
            self.guarded("archive", self.check_manifest_claims)
            self.verdict.state = self.state
            self.verdict.flags = self.submitted_flags()
        for name, description in CHECKS:
            problems = self.problems[name] if name in ran else [f"not checked: {self.blocked}"]
            self.verdict.checks.append(Check(name, not problems, "; ".join(problems) or description, name in ran))

    def guarded(self, name: str, check) -> None:
        """Run one check; data a forger shaped wrongly fails it with a message, never a traceback."""
        try:
            check()
        except MALFORMED as exc:
            self.fail(name, f"the archive's data is malformed ({type(exc).__name__}: {exc})")
            if name in ("hash chain", "task"):
                self.blocked = f"the {name} check could not run"

    def fail(self, check: str, problem: str) -> None:
        self.problems[check].append(problem)

    # -- the archive and its journal ---------------------------------------------------
    def check_members(self) -> None:
        listed = self.archive.manifest.get("files") or {}
        present = {
            p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
        } - {MANIFEST}
        for name in sorted(present - set(listed)):
            self.fail("archive", f"{name} is in the archive but not in its manifest")
        for name, digest in sorted(listed.items()):
            if name not in present:
                self.fail("archive", f"{name} is listed in the manifest but missing")
            elif file_sha256(self.root / name) != digest:
                self.fail("archive", f"{name} differs from the hash its manifest lists (changed after export)")

    def read_chain(self) -> None:
        path = self.folder.journal
        try:
            self.entries, _, _, torn = read_journal(path)
        except FileNotFoundError:
            self.fail("hash chain", f"the archive has no {JOURNAL}")
            self.blocked = "the journal is missing"
            return
        except JournalCorrupt as exc:
            self.fail("hash chain", f"{JOURNAL} line {exc.line_no}: {exc.reason}")
            self.blocked = "the journal's chain is broken"
            return
        self.verdict.identity = journal_identity(path) or ""
        if torn:
            self.fail("hash chain", torn)
        if not self.entries or self.entries[0].type != "session_created":
            self.fail("hash chain", f"{JOURNAL} does not begin with the session's creation")
            self.blocked = "the journal does not describe a session"

    def check_task(self) -> None:
        meta = self.entries[0].data
        task_id = meta.get("task_id")
        try:
            self.task = self.catalog.get(task_id)
        except (UnknownTask, TaskSpecError) as exc:
            self.fail("task", f"task {task_id!r} cannot be loaded here: {exc}")
            self.blocked = "the task is not installed here"
            return
        initial = next((e for e in self.entries if e.type == "files_initialised"), None)
        if initial is None:
            self.fail("task", "the journal never records the scaffold's files")
            self.blocked = "the scaffold is unknown"
            return
        recorded = initial.data["files"]
        for f in self.task.files:
            text = f.source.read_text(encoding="utf-8")
            self.scaffold[f.path] = text
            info = recorded.get(f.path)
            if info is None:
                self.fail("task", f"{f.path} is a file of the task here but the session never had it")
            elif info["sha256"] != sha256_text(text):
                self.fail("task", f"{f.path} differs from this installation's scaffold (another task version?)")
            elif [list(r) for r in info["ranges"]] != [[r.start, r.end] for r in f.editable]:
                self.fail("task", f"{f.path}'s editable ranges differ from this installation's")
        for path in sorted(set(recorded) - set(self.scaffold)):
            self.fail("task", f"the session had {path}, which this installation's task does not")
        if self.problems["task"]:
            self.blocked = "the scaffold differs from this installation's"
        exported = self.archive.manifest.get("task", {}).get("task_toml_sha256")
        if exported != file_sha256(self.task.folder / "task.toml"):
            self.verdict.notes.append(
                "the task.toml differs from this installation's (same scaffold): results are "
                "derived with this installation's metric rules")
        packages = self.archive.manifest.get("packages", {})
        self.verdict.notes.append(
            f"exported with mlsbench-tui {packages.get('mlsbench-tui', '?')}, Python {packages.get('python', '?')}, "
            f"torch {packages.get('torch', '?')}")

    # -- the journal replayed on this scaffold ---------------------------------------------
    def replay(self) -> None:
        submitted_at: int | None = None
        for entry in self.entries:
            data = entry.data
            if entry.type == "files_initialised":  # start from this installation's text
                data = {"files": {p: dict(info, text=self.scaffold[p] if info["text"] is not None else None)
                                  for p, info in data["files"].items()}}
            if submitted_at is not None and entry.type not in AFTER_SUBMIT:
                self.fail("submission", f"journal line {entry.seq + 1} ({entry.type}) comes after the submission")
            if entry.type == "test_started":
                self.check_tested_files(entry)
            if entry.type == "submit_started":
                submitted_at = entry.seq
            try:
                self.state.apply(entry.type, data, entry.time)
            except EditRefused as exc:
                self.fail("editable lines", f"journal line {entry.seq + 1}: {exc}")
                return
            except ReplayMismatch as exc:
                self.fail("edits", f"journal line {entry.seq + 1}: {exc}")
                return
            except MALFORMED as exc:
                self.fail("edits", f"journal line {entry.seq + 1} ({entry.type}) cannot be applied ({exc!r})")
                return
        self.check_fixed_lines()

    def check_tested_files(self, entry: Entry) -> None:
        n = entry.data.get("n")
        if n != len(self.state.tests) + 1:
            self.fail("budget", f"journal line {entry.seq + 1} starts test #{n} after {len(self.state.tests)} tests")
        # Editable files must be recorded as the edits made them; a fixed file, if recorded, as the scaffold.
        expected = {p: sha256_text(self.state.files[p].text if p in self.state.files else text)
                    for p, text in self.scaffold.items()}
        recorded = entry.data.get("files", {})
        editable = [p for p, f in self.state.files.items() if f.ranges]
        wrong = [p for p in editable if p not in recorded] + [p for p, digest in recorded.items() if expected.get(p) != digest]
        if wrong:
            self.fail("edits", f"test #{n} records hashes of {', '.join(sorted(wrong))} that the edits before it do not produce")

    def check_fixed_lines(self) -> None:
        for path, f in self.state.files.items():
            if not f.ranges:
                continue
            original = self.task.file(path)
            base = FileState.from_text(self.scaffold[path], original.editable)
            if fixed_segments(list(base.lines), list(base.ranges)) != fixed_segments(list(f.lines), list(f.ranges)):
                self.fail("editable lines", f"{path}: lines outside the editable ranges differ from the scaffold")

    def check_budget(self) -> None:
        meta = self.state.meta
        if meta.get("test_budget") != self.task.test_budget:
            self.fail("budget", f"the session's budget is {meta.get('test_budget')}, the task's is {self.task.test_budget}")
        if len(self.state.tests) > self.task.test_budget:
            self.fail("budget", f"{len(self.state.tests)} tests were started; the budget is {self.task.test_budget}")
        tests_dir = self.folder.tests
        folders = sorted(p.name for p in tests_dir.iterdir()) if tests_dir.is_dir() else []
        journaled = {str(r.key.n) for r in self.state.tests}
        for name in folders:
            if name not in journaled:
                self.fail("budget", f"tests/{name} is in the archive but the journal records {len(journaled)} test(s)")

    def check_snapshots(self) -> None:
        for record in self.state.tests:
            run_dir = self.folder.run_dir(record.key.n)
            for path, text in self.scaffold.items():
                expected = record.files.get(path) or sha256_text(text)
                target = run_dir / path
                if not target.is_file():
                    self.fail("snapshots", f"test #{record.key.n}'s snapshot has no {path}")
                elif file_sha256(target) != expected:
                    self.fail("snapshots", f"test #{record.key.n}'s {path} is not the file that was tested")

    def check_submission(self) -> None:
        submission = self.state.submission
        if submission is None:
            self.fail("submission", "nothing was submitted")
        elif not 1 <= submission.key.n <= len(self.state.tests):
            self.fail("submission", f"test #{submission.key.n} was submitted but never ran")
        elif not submission.finished:
            self.fail("submission", "the submission's hidden settings never finished")

    # -- results against logs ------------------------------------------------------------------
    def settings(self) -> dict[str, Setting]:
        return {i["label"]: Setting(i["label"], i["command"], i["hidden"]) for i in self.state.meta["settings"]}

    def check_results(self) -> None:
        settings = self.settings()
        for record in self.state.runs:
            stored = self.stored_results(self.folder.results_path(record.key), record)
            for label, setting_record in record.settings.items():
                where = f"{record.key} {label}"
                if setting_record.status not in ENDED:
                    self.fail("results", f"{where} never ended")
                    continue
                if stored is not None and stored.get(label) != setting_record.results:
                    self.fail("results", f"{where}: results.json says {stored.get(label)}, the journal {setting_record.results}")
                code = read_exit_file(self.folder.exit_path(record.key, label))
                if setting_record.exit_code is not None and code != setting_record.exit_code:
                    self.fail("results", f"{where}: the exit file says {code}, the journal {setting_record.exit_code}")
                if setting_record.status != DONE:
                    if setting_record.results:
                        self.fail("results", f"{where} {setting_record.status} yet has results")
                    continue
                source = self.folder.metrics_source(record.key, setting_record)
                what = "metrics file" if setting_record.metrics_channel else "log"
                if not source.is_file():
                    self.fail("results", f"{where}: its {what} is missing")
                    continue
                metrics = SettingMetrics(self.task.metrics, settings[label])
                replay_log(source, metrics)
                implied = {name: v.text for name, v in metrics.results().items()}
                if implied != setting_record.results:
                    self.fail("results", f"{where}: the {what} implies {implied}, the journal records {setting_record.results}")

    def named(self, path: Path) -> str:
        """A file of the archive as its manifest names it."""
        return self.folder.relative(path)

    def stored_results(self, path: Path, record: RunRecord) -> dict[str, dict] | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return {label: s.get("results") for label, s in raw["settings"].items()}
        except FileNotFoundError:
            if record.finished:
                self.fail("results", f"{record.key} finished but {self.named(path)} is missing")
            return None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.fail("results", f"{self.named(path)} cannot be read ({exc})")
            return None

    def check_manifest_claims(self) -> None:
        """The manifest is a summary for people; it must not say other than the journal."""
        manifest, state = self.archive.manifest, self.state
        session = manifest.get("session") or {}
        claims = {
            "task": ((manifest.get("task") or {}).get("id"), state.meta.get("task_id")),
            "profile": (session.get("profile"), state.meta.get("profile")),
            "person": (session.get("person"), state.meta.get("person")),
            "submitted test": (session.get("submitted_test"), state.submitted_test),
            "final results": ((manifest.get("results") or {}).get("final"), final_results(state)),
        }
        if "work_time" in manifest:  # archives exported before working time was kept have none
            claims["working time"] = (manifest["work_time"], state.work.summary())
        for what, (said, journaled) in claims.items():
            if said != journaled:
                self.fail("archive", f"the manifest's {what} ({said}) is not the journal's ({journaled})")

    def check_work_time(self) -> None:
        """The clock's entries in order, by journal line: no work while paused or out of time."""
        log = WorkLog()
        for entry in self.entries:
            log.apply(entry.type, entry.data, entry.seq)
        for problem in log.problems:
            self.fail("working time", problem)

    def submitted_flags(self) -> list[Flag]:
        submission = self.state.submission
        if submission is None or not 1 <= submission.key.n <= len(self.state.tests):
            return []
        initial = {
            f.path: FileState.from_text(self.scaffold[f.path], f.editable) for f in self.task.files if f.editable
        }
        return snapshot_flags(self.folder.run_dir(submission.key.n), initial)


def verify_archive(path: Path, catalog: Catalog) -> Verdict:
    """Every check of one archive; an unreadable archive fails its first check."""
    verdict = Verdict(path)
    try:
        with open_archive(path) as archive:
            verdict.manifest = archive.manifest
            _Checker(archive, catalog, verdict).run()
    except ArchiveError as exc:
        verdict.checks = [Check("archive", False, str(exc))]
    return verdict


def verdict_lines(verdict: Verdict) -> list[str]:
    lines = [f"Verifying {verdict.path}"]
    lines += [f"  {'PASS' if c.ok else 'FAIL'}  {c.name}: {c.detail}" for c in verdict.checks]
    lines += [f"Note: {note}" for note in verdict.notes]
    if verdict.state is not None:
        lines.append("; ".join(verdict.state.work.lines()))
    if verdict.flags:
        lines.append("Integrity flags in the submitted code (not failures; a re-score settles the result):")
        lines += [f"  {flag.describe()}" for flag in verdict.flags]
    if verdict.ok:
        lines.append("verified: every check holds")
    else:
        skipped = sum(not c.ran for c in verdict.checks)
        lines.append(f"NOT verified: {len(verdict.failures()) - skipped} check(s) failed"
                     + (f", {skipped} could not run" if skipped else ""))
    return lines
