"""Importing our own sessions: a session directory or its journal.jsonl.

The journal is applied entry by entry to a `SessionState`, exactly as the
engine does when it resumes, so every edit step carries the file as it was
(each edit's text is checked against the hash the journal recorded). Tests
and the submission take their per-setting output from the logs beside the
journal (tests/<n>/<label>.log, submit/<label>.log).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sessions.events import RUNNING, RunKey
from sessions.flags import Flag, flags_note
from sessions.folder import SessionFolder
from sessions.journal import Entry, JournalCorrupt, read_journal
from sessions.metrics import file_rows
from sessions.replay.model import (
    UNKNOWN,
    EditStep,
    Replay,
    SettingResult,
    SubmitStep,
    TestStep,
    TextStep,
    UndoStep,
)
from sessions.replay.results import parse_run_output
from sessions.state import ReplayMismatch, SessionState, sha256_text
from sessions.tail import read_log_tail
from sessions.worktime import duration_text

LOG_TAIL_BYTES = 32 * 1024
LOG_TAIL_LINES = 200


def _lenient_entries(path: Path, skipped: list[str]) -> list[Entry]:
    """Entries of a journal whose hash chain is broken: every line that parses."""
    entries = []
    try:
        blob = path.read_bytes()
    except OSError as exc:
        skipped.append(f"{path}: cannot be read ({exc})")
        return []
    for number, raw in enumerate(blob.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            entries.append(Entry(obj.get("seq", number - 1), obj.get("time", ""), obj["type"], obj.get("data") or {}))
        except (ValueError, KeyError, TypeError, AttributeError):
            skipped.append(f"{path.name} line {number}: not a journal entry; left out")
    return entries


def read_entries(path: Path, skipped: list[str]) -> list[Entry]:
    try:
        entries, _, _, warning = read_journal(path)
    except JournalCorrupt as exc:
        skipped.append(
            f"{path.name}: line {exc.line_no}: {exc.reason}; the journal was changed after it was "
            "written, so the replay shows what it says without vouching for it"
        )
        return _lenient_entries(path, skipped)
    except OSError as exc:
        skipped.append(f"{path}: cannot be read ({exc})")
        return []
    if warning:
        skipped.append(warning)
    return entries


def log_tail(path: Path) -> tuple[str, bool]:
    """The last lines of a setting's log, and whether earlier lines were left out."""
    lines, cut = read_log_tail(path, LOG_TAIL_LINES, LOG_TAIL_BYTES)
    return "\n".join(lines), cut


class _Builder:
    def __init__(self, directory: Path, replay: Replay):
        self.dir, self.replay = directory, replay
        self.state = SessionState()
        self.tests: dict[int, TestStep] = {}
        self.submit: SubmitStep | None = None
        self.unknown: dict[str, int] = {}

    def budget_left(self) -> int | None:
        try:
            return self.state.budget_left
        except (KeyError, TypeError, ValueError):  # no (readable) session_created entry
            return None

    @property
    def skipped(self) -> list[str]:
        return self.replay.skipped

    def entry(self, entry: Entry) -> None:
        handler = getattr(self, "_on_" + entry.type, None)
        try:
            if handler is None:
                self.unknown[entry.type] = self.unknown.get(entry.type, 0) + 1
                self.state.apply(entry.type, entry.data, entry.time)
            else:
                handler(entry)
        except Exception as exc:  # a replay shows what it can; it never stops at a bad entry
            self.skipped.append(
                f"journal entry {entry.seq} ({entry.type}) could not be replayed: {type(exc).__name__}: {exc}"
            )

    # -- session and files ---------------------------------------------------------
    def _on_session_created(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        meta = entry.data
        r = self.replay
        r.task_id, r.title, r.profile = meta.get("task_id"), meta.get("title"), meta.get("profile")
        r.who = meta.get("person") or None
        r.test_budget = meta.get("test_budget")
        r.meta.update(seed=meta.get("seed"), created_at=entry.time, settings=meta.get("settings", []))

    def _on_files_initialised(self, entry: Entry) -> None:
        files = {}
        for path, info in entry.data.get("files", {}).items():
            if info.get("text") is None:  # a read-only file: the journal keeps only its hash
                continue
            files[path] = info
        self.state.apply(entry.type, {"files": files}, entry.time)
        self.replay.run_start[1] = dict(self.state.files)

    def _on_edit(self, entry: Entry) -> None:
        data = entry.data
        path = data["file"]
        before = self.state.files.get(path)
        step = EditStep(
            time=entry.time, source_step=entry.seq, file=path, start=data["start"], end=data["end"],
            content=data["content"], before=before, sha256_after=data.get("sha256_after"),
        )
        if before is None:
            step.notes.append(f"{path} is not an editable file of this session; the edit is shown as recorded")
            self.skipped.append(f"journal entry {entry.seq}: edit of unknown file {path!r}")
            self.replay.add(step)
            return
        try:
            self.state.apply(entry.type, data, entry.time)
            step.after, step.applied = self.state.files[path], True
        except ReplayMismatch as exc:
            # Show what the journal's edit makes of the file, and say it differs.
            after = before.edited(data["start"], data["end"], data["content"])
            step.after, step.applied = after, True
            self.state.undo_stack.append((path, before))
            self.state.files[path] = after
            self.state.edits += 1
            step.notes.append(f"{exc}: the file shown after it is not the one recorded")
            self.skipped.append(f"journal entry {entry.seq}: {exc}")
        self.replay.add(step)

    def _on_undo(self, entry: Entry) -> None:
        count = int(entry.data.get("count", 1))
        popped = self.state.undo_stack[-count:] if count > 0 else []
        paths = {path for path, _ in popped}
        before = {path: self.state.files.get(path) for path in paths}
        self.state.apply(entry.type, entry.data, entry.time)
        files = {path: (before[path], self.state.files.get(path)) for path in sorted(paths)}
        self.replay.add(
            UndoStep(
                time=entry.time, source_step=entry.seq, count=count, files=files,
                message="Undo complete:\n" + "\n".join(f"Restored: {p}" for p in sorted(paths)),
            )
        )

    # -- tests and the submission ------------------------------------------------
    def _on_test_started(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        n = entry.data["n"]
        step = TestStep(
            time=entry.time, source_step=entry.seq, n=n, status=RUNNING,
            settings=[SettingResult(label, status="queued") for label in entry.data.get("settings", [])],
            files=dict(entry.data.get("files", {})),
            budget_left=self.budget_left(),
        )
        self._check_snapshot(step)
        self.tests[n] = step
        self.replay.add(step)

    def _check_snapshot(self, step: TestStep) -> None:
        """The tested text must be the text the edits produced."""
        for path, digest in step.files.items():
            current = self.state.files.get(path)
            if current is not None and sha256_text(current.text) != digest:
                step.notes.append(f"{path}: the tested file differs from the file the edits produced")
                self.skipped.append(f"test #{step.n}: tested {path} is not the journal's file")

    def _on_submit_started(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        self.submit = SubmitStep(
            time=entry.time, source_step=entry.seq, n=entry.data["n"], status=RUNNING,
            settings=[SettingResult(label, status="queued", hidden=True) for label in entry.data.get("settings", [])],
        )
        self.replay.add(self.submit)

    def _run_step(self, data: dict[str, Any]) -> TestStep | SubmitStep:
        if data.get("phase", "test") == "submit":
            if self.submit is None:
                raise KeyError("submission was never started")
            return self.submit
        return self.tests[data["n"]]

    def _setting(self, data: dict[str, Any]) -> SettingResult:
        step = self._run_step(data)
        for s in step.settings:
            if s.label == data["label"]:
                return s
        s = SettingResult(data["label"])
        step.settings.append(s)
        return s

    def _on_setting_started(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        s = self._setting(entry.data)
        s.status, s.started = RUNNING, entry.time

    def _on_setting_finished(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        data = entry.data
        s = self._setting(data)
        s.status, s.exit_code = data.get("status", UNKNOWN), data.get("exit_code")
        s.metrics = dict(data.get("results") or {})
        s.detail, s.ended = data.get("detail", ""), entry.time

    def _on_cancel_requested(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        self._run_step(entry.data).notes.append(f"cancel requested at {entry.time}")

    def _on_run_finished(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        step = self._run_step(entry.data)
        step.text, step.ended = entry.data.get("feedback", ""), entry.time
        statuses = {s.status for s in step.settings}
        if statuses <= {"done"}:
            step.status = "done"
        elif "cancelled" in statuses:
            step.status = "cancelled"
        elif statuses & {"failed", "lost"} and "done" in statuses:
            step.status = "partial"
        else:
            step.status = "failed"

    def _on_note(self, entry: Entry) -> None:
        self.replay.add(TextStep(time=entry.time, source_step=entry.seq, role="note", text=str(entry.data.get("text", ""))))

    def _on_person_note(self, entry: Entry) -> None:
        """The person's note: their thinking, shown as an agent's is."""
        step = entry.data.get("step")
        self.replay.add(TextStep(time=entry.time, source_step=entry.seq, role="thinking",
                                 title=f"note, {step}" if step else "note", text=str(entry.data.get("text", ""))))

    def _on_time_limit(self, entry: Entry) -> None:
        self.state.apply(entry.type, entry.data, entry.time)
        self.replay.meta["time_limit_s"] = self.state.work.limit

    def _clock(self, entry: Entry) -> None:
        """The working clock: folded in; a pause and a resume are steps, with the working time."""
        self.state.apply(entry.type, entry.data, entry.time)
        self.replay.meta["work_time_s"] = self.state.work.seconds()
        if entry.type in ("clock_paused", "clock_resumed"):
            what = "paused" if entry.type == "clock_paused" else "resumed"
            self.replay.add(TextStep(time=entry.time, source_step=entry.seq, role="note", title="working clock",
                                     text=f"{what} after {duration_text(self.state.work.seconds())} of work"))

    _on_clock_started = _on_clock_tick = _on_clock_paused = _on_clock_resumed = _on_clock_stopped = _clock

    def _on_flags(self, entry: Entry) -> None:
        """Integrity flags journaled at a save or a submit, shown as a note (a clean submit says nothing)."""
        flags = [Flag.from_dict(d) for d in entry.data.get("flags", [])]
        if not flags and entry.data.get("when") == "submit":
            return
        text = flags_note(flags) or "no integrity flags any more in " + ", ".join(entry.data.get("files", []))
        self.replay.add(TextStep(time=entry.time, source_step=entry.seq, role="note",
                                 title=f"integrity flags at {entry.data.get('when')}", text=text))

    # -- after the last entry ----------------------------------------------------------
    def finish(self) -> None:
        for n, step in self.tests.items():
            self._attach_logs(step, RunKey("test", n))
        if self.submit is not None:
            self._attach_logs(self.submit, RunKey("submit", self.submit.n or 0))
            sub = self.state.submission
            tested = self.tests.get(self.submit.n) if self.submit.n is not None else None
            if sub is not None and tested is not None:
                self.submit.final = {**tested.results(), **{k: v for s in self.submit.settings for k, v in s.metrics.items()}}
            if not (sub is not None and sub.finished):
                self.submit.notes.append("the hidden settings had not all finished when the journal ends")
        for type_, count in sorted(self.unknown.items()):
            self.skipped.append(f"{count} journal entr{'y' if count == 1 else 'ies'} of unknown type {type_!r} left out")
        if self.tests or self.submit:
            self._fill_from_feedback()

    def _attach_logs(self, step: TestStep | SubmitStep, key: RunKey) -> None:
        folder = SessionFolder(self.dir)
        try:
            records = self.state.run(key).settings
        except (AssertionError, IndexError):  # a journal cut short: no record of the run
            records = {}
        for s in step.settings:
            text, cut = log_tail(folder.log_path(key, s.label))
            s.output = (f"[… earlier lines of {s.label}.log left out]\n" if cut else "") + text
            if s.label in records and records[s.label].metrics_channel:  # its curve is the channel's, not what it printed
                s.curve = list(file_rows(folder.metrics_path(key, s.label)))

    def _fill_from_feedback(self) -> None:
        """Where a log is gone, the feedback text still has the setting's block."""
        for step in [*self.tests.values(), *([self.submit] if self.submit else [])]:
            if not step.text or all(s.output for s in step.settings):
                continue
            parsed = {p.label: p for p in parse_run_output(step.text).settings}
            for s in step.settings:
                if not s.output and s.label in parsed:
                    s.output = parsed[s.label].output


def session_journal(path: Path) -> Path:
    return SessionFolder(path).journal if path.is_dir() else path


def import_session(path: Path) -> Replay:
    journal = session_journal(path)
    directory = journal.parent
    replay = Replay("session", str(directory))
    entries = read_entries(journal, replay.skipped)
    if not entries:
        replay.skipped.append(f"{journal}: the journal holds no entries")
        return replay
    builder = _Builder(directory, replay)
    for entry in entries:
        builder.entry(entry)
    try:
        builder.finish()
    except Exception as exc:  # logs and feedback are extras: the steps stand without them
        replay.skipped.append(f"the tests' logs could not all be read ({type(exc).__name__}: {exc})")
    replay.meta["session_id"] = directory.name
    replay.meta["closed"] = builder.state.closed
    replay.meta["budget_left"] = builder.budget_left()
    replay.notes.append(f"session {directory.name}: rebuilt from its journal ({len(entries)} entries)")
    return replay
