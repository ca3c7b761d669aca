"""A session's state, rebuilt entry by entry from its journal.

The engine changes state only by appending a journal entry and applying it
here, so a live session and a resumed one go through the same code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sessions.events import CANCELLED, ENDED, QUEUED, RUNNING, RunKey
from sessions.ranges import apply_edit, content_lines
from sessions.worktime import WorkLog
from tasks.spec import LineRange


class ReplayMismatch(RuntimeError):
    """The journal does not reproduce the files it says it produced."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FileState:
    lines: tuple[str, ...]
    ranges: tuple[LineRange, ...]
    trailing_newline: bool = True

    @classmethod
    def from_text(cls, text: str, ranges: tuple[LineRange, ...]) -> FileState:
        trailing = text.endswith("\n")
        body = text[:-1] if trailing else text
        return cls(tuple(body.split("\n")) if body else (), ranges, trailing)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.trailing_newline else "")

    def edited(self, start: int, end: int, content: str) -> FileState:
        lines, ranges = apply_edit(list(self.lines), list(self.ranges), start, end, content_lines(content))
        return FileState(tuple(lines), tuple(ranges), self.trailing_newline)


@dataclass
class SettingRecord:
    label: str
    status: str = QUEUED
    job_id: str | None = None
    runner: str = "local"
    exit_code: int | None = None
    results: dict[str, str] = field(default_factory=dict)
    detail: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    metrics_channel: bool = False  # its metrics came on the channel, not in its log (runs before it: False)


@dataclass
class RunRecord:
    key: RunKey
    settings: dict[str, SettingRecord]
    started_at: str
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256 of the tested text
    feedback: str | None = None
    cancel_requested: bool = False

    @property
    def finished(self) -> bool:
        return self.feedback is not None

    @property
    def cancelled(self) -> bool:
        return any(s.status == CANCELLED for s in self.settings.values())

    def results(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s in self.settings.values():
            out.update(s.results)
        return out

    def unfinished(self) -> list[SettingRecord]:
        return [s for s in self.settings.values() if s.status not in ENDED]

    def summary(self) -> dict[str, Any]:
        """What the run's results.json holds."""
        return {
            "run": str(self.key),
            "settings": {
                s.label: {"status": s.status, "exit_code": s.exit_code, "results": s.results, "detail": s.detail}
                for s in self.settings.values()
            },
        }


@dataclass
class SessionState:
    meta: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FileState] = field(default_factory=dict)
    undo_stack: list[tuple[str, FileState]] = field(default_factory=list)
    tests: list[RunRecord] = field(default_factory=list)
    submission: RunRecord | None = None
    edits: int = 0
    # Each file's text before the last entry that changed it: a workspace file still at
    # this text is one the engine had not yet written when it stopped (journal first).
    previous_texts: dict[str, str] = field(default_factory=dict)
    work: WorkLog = field(default_factory=WorkLog)  # the working clock (sessions/worktime.py)

    # -- derived -----------------------------------------------------------
    @property
    def budget_total(self) -> int:
        return int(self.meta["test_budget"])

    @property
    def budget_left(self) -> int:
        return self.budget_total - len(self.tests)

    @property
    def closed(self) -> bool:
        return self.submission is not None and self.submission.finished

    @property
    def read_only(self) -> bool:
        """From the moment a submission starts, nothing may change any more."""
        return self.submission is not None

    @property
    def submitted_test(self) -> int | None:
        return self.submission.key.n if self.submission else None

    @property
    def runs(self) -> list[RunRecord]:
        """Every test, then the submission if there is one."""
        return [*self.tests, *([self.submission] if self.submission else [])]

    def final_results(self) -> dict[str, str]:
        """The submitted test's visible results plus the submission's hidden ones (those
        it has so far, while it runs); empty before a submission or where it names no test."""
        submission = self.submission
        if submission is None or not 1 <= submission.key.n <= len(self.tests):
            return {}
        return {**self.tests[submission.key.n - 1].results(), **submission.results()}

    def active_run(self) -> RunRecord | None:
        return next((r for r in self.runs if not r.finished), None)

    def run(self, key: RunKey) -> RunRecord:
        if key.phase == "submit":
            assert self.submission is not None and self.submission.key == key
            return self.submission
        return self.tests[key.n - 1]

    # -- applying journal entries ---------------------------------------------
    def apply(self, type_: str, data: dict[str, Any], time: str) -> None:
        self.work.apply(type_, data)
        handler = getattr(self, "_on_" + type_, None)
        if handler is not None:  # unknown types (notes) change no state
            handler(data, time)

    def _on_session_created(self, data: dict, time: str) -> None:
        self.meta = dict(data, created_at=time)

    def _on_files_initialised(self, data: dict, time: str) -> None:
        for path, info in data["files"].items():
            if info["text"] is None:  # a read-only helper: only its hash is journaled
                continue
            ranges = tuple(LineRange(a, b) for a, b in info["ranges"])
            self.files[path] = FileState.from_text(info["text"], ranges)

    def _on_edit(self, data: dict, time: str) -> None:
        path = data["file"]
        before = self.files[path]
        after = before.edited(data["start"], data["end"], data["content"])
        if sha256_text(after.text) != data["sha256_after"]:
            raise ReplayMismatch(f"edit #{self.edits + 1} of {path} does not reproduce the recorded file")
        self.undo_stack.append((path, before))
        self.previous_texts[path] = before.text
        self.files[path] = after
        self.edits += 1

    def _on_undo(self, data: dict, time: str) -> None:
        before_undo: dict[str, str] = {}
        for _ in range(data["count"]):
            path, before = self.undo_stack.pop()
            before_undo.setdefault(path, self.files[path].text)
            self.files[path] = before
        self.previous_texts.update(before_undo)

    def _run_key(self, data: dict) -> RunKey:
        return RunKey(data.get("phase", "test"), data["n"])

    def _new_run(self, data: dict, time: str) -> RunRecord:
        return RunRecord(
            key=self._run_key(data),
            settings={label: SettingRecord(label) for label in data["settings"]},
            started_at=time,
            files=dict(data.get("files", {})),
        )

    def _on_test_started(self, data: dict, time: str) -> None:
        self.tests.append(self._new_run(dict(data, phase="test"), time))

    def _on_submit_started(self, data: dict, time: str) -> None:
        self.submission = self._new_run(dict(data, phase="submit"), time)

    def _on_setting_started(self, data: dict, time: str) -> None:
        record = self.run(self._run_key(data)).settings[data["label"]]
        record.status, record.job_id, record.started_at = RUNNING, data["job_id"], time
        record.runner = data.get("runner", "local")
        record.metrics_channel = data.get("metrics_channel", False)

    def _on_setting_finished(self, data: dict, time: str) -> None:
        record = self.run(self._run_key(data)).settings[data["label"]]
        record.status = data["status"]
        record.exit_code = data.get("exit_code")
        record.results = dict(data.get("results", {}))
        record.detail = data.get("detail", "")
        record.ended_at = time

    def _on_cancel_requested(self, data: dict, time: str) -> None:
        self.run(self._run_key(data)).cancel_requested = True

    def _on_run_finished(self, data: dict, time: str) -> None:
        self.run(self._run_key(data)).feedback = data["feedback"]

