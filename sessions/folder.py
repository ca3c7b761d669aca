"""The layout of one session folder, spelled out in this one place.

    <session>/journal.jsonl          the append-only, hash-chained record
    <session>/scaffold/<file>        the task's files as the session began
    <session>/workspace/<file>       the files being edited
    <session>/tests/<n>/run/         test n's snapshot (read-only), where its jobs run
    <session>/tests/<n>/<label>.log  one log, metrics and exit file per setting, results.json
    <session>/tests/.preflight-<n>/  a snapshot being checked, before test n is journaled
    <session>/submit/                the hidden settings' logs, exit files and results.json
    <session>/rejected-edits/        copies of texts the session refused or replaced
    <session>/preflight.pids         process groups of running preflight checks

The engine, the runners, the importers, the archive and the app all ask this
class; an extracted archive has the same layout, so verification uses it too.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sessions.errors import Refused
from sessions.events import RunKey
from sessions.metrics import METRICS_SUFFIX
from sessions.state import SettingRecord, sha256_text
from tasks.spec import TaskSpec

JOURNAL = "journal.jsonl"
WORKSPACE_TMP_SUFFIX = ".mlsbench-tmp"  # written beside a workspace file, then renamed over it


class SessionFolder:
    def __init__(self, root: Path):
        self.root = root

    def lay_out(self, task: TaskSpec) -> dict[str, dict[str, Any]]:
        """Copy the task's files into the scaffold and the workspace; what the journal records of them."""
        files = {}
        for f in task.files:
            text = f.source.read_text(encoding="utf-8")
            for target in (self.scaffold_file(f.path), self.workspace_file(f.path)):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            files[f.path] = {
                "text": text if f.is_editable else None,
                "sha256": sha256_text(text),
                "ranges": [[r.start, r.end] for r in f.editable],
            }
        return files

    def lock(self) -> int:
        """Hold the folder's kernel lock (flock on the folder itself): one writer at a time.
        The kernel releases it when the process dies, so a stale lock cannot exist."""
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            raise Refused(f"{self.root} does not exist: there is no session there") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Refused(
                f"session {self.root.name} is open in another mlsbench-tui process (the app, or a test "
                "being followed); close that one first. `session status` works meanwhile"
            ) from None
        return fd

    @property
    def journal(self) -> Path:
        return self.root / JOURNAL

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def scaffold(self) -> Path:
        return self.root / "scaffold"

    def workspace_file(self, path: str) -> Path:
        return self.workspace / path

    def workspace_tmp(self, path: str) -> Path:
        target = self.workspace_file(path)
        return target.with_name(target.name + WORKSPACE_TMP_SUFFIX)

    def scaffold_file(self, path: str) -> Path:
        return self.scaffold / path

    # -- runs --------------------------------------------------------------------------------
    @property
    def tests(self) -> Path:
        return self.root / "tests"

    def test_dir(self, n: int) -> Path:
        return self.tests / str(n)

    def run_dir(self, n: int) -> Path:
        """Test n's snapshot: where its jobs, and its submission's, run."""
        return self.test_dir(n) / "run"

    def scratch_dir(self, n: int) -> Path:
        """Where test n's snapshot is made and checked before the test is journaled."""
        return self.tests / f".preflight-{n}"

    def unjournaled_dir(self, n: int, tag: str) -> Path:
        """Where a test folder the journal never knew is kept aside (never deleted)."""
        return self.tests / f".unjournaled-{n}-{tag}"

    @property
    def submit(self) -> Path:
        return self.root / "submit"

    def log_dir(self, key: RunKey) -> Path:
        """Where a run's logs, exit files and results.json are written."""
        return self.submit if key.phase == "submit" else self.test_dir(key.n)

    def log_path(self, key: RunKey, label: str) -> Path:
        return self.log_dir(key) / f"{label}.log"

    def metrics_path(self, key: RunKey, label: str) -> Path:
        """The setting's metrics channel: the only file its results are read from."""
        return self.log_dir(key) / f"{label}{METRICS_SUFFIX}"

    def channel(self, key: RunKey, record: SettingRecord) -> Path | None:
        """The metrics channel of a setting about to start, or started with one; None for a job
        started before channels existed (its metrics are in its log)."""
        return self.metrics_path(key, record.label) if record.job_id is None or record.metrics_channel else None

    def metrics_source(self, key: RunKey, record: SettingRecord) -> Path:
        """Where a setting's metrics are read: its channel, or its log for a run from before channels."""
        return self.metrics_path(key, record.label) if record.metrics_channel else self.log_path(key, record.label)

    def exit_path(self, key: RunKey, label: str) -> Path:
        return self.log_dir(key) / f"{label}.exit"

    def results_path(self, key: RunKey) -> Path:
        return self.log_dir(key) / "results.json"

    def relative(self, path: Path) -> str:
        """A path inside the folder as the archive names it."""
        return path.relative_to(self.root).as_posix()

    # -- bookkeeping ------------------------------------------------------------------------------
    @property
    def preflight_groups(self) -> Path:
        return self.root / "preflight.pids"

    @property
    def rejected_edits(self) -> Path:
        return self.root / "rejected-edits"

    def keep_rejected(self, path: str, text: str) -> Path:
        """Keep a text the session did not take (refused, or replaced), named by file and time."""
        self.rejected_edits.mkdir(exist_ok=True)
        target = self.rejected_edits / f"{Path(path).name}.{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        target.write_text(text, encoding="utf-8")
        return target

