"""Re-scoring: run a candidate region through the engine, on every setting, and keep the result.

Each candidate runs as an internal session kept in the results store: the
region is set by engine edits, one test runs the visible settings, and
submitting it runs the hidden ones. So the preflight, the runners, the logs
and the fixed-line checks are the ones a person's test goes through; none of
the rules is re-implemented here.

A killed re-score resumes: the internal session's journal says how far it
got, settings that ended keep their results, and runs still going (they live
in their own process groups) are re-attached. A test whose settings were
cancelled or lost is run again while the internal budget lasts.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sessions.engine import Session
from sessions.errors import Refused
from sessions.events import CANCELLED, DONE, LOST
from sessions.metrics import file_rows
from sessions.rescore_candidates import Candidate, fixed_hash
from sessions.rescore_store import Curve, ResultsStore, StoredResult
from sessions.state import RunRecord
from tasks.spec import TaskSpec

RETRY_STATUSES = (CANCELLED, LOST)  # not the candidate's doing: run the test again


class RescoreFailed(Refused):
    """The candidate could not be re-scored; the message says why."""


@dataclass(frozen=True)
class Outcome:
    candidate: Candidate
    result: StoredResult
    cached: bool


class Rescorer:
    """Re-scores candidates of one task on one profile and seed.

    `listener` receives the engine's events (LogLines, Progress, SettingStatus,
    RunFinished) of the candidate being run; `session_options` go to the engine
    (runner, slots, python).
    """

    def __init__(self, task: TaskSpec, store: ResultsStore, *, profile: str, seed: int | None = None,
                 data_root: Path | None = None, listener: Callable[[Any], None] | None = None,
                 **session_options: Any):
        self.task, self.store, self.profile = task, store, profile
        self.seed = task.default_seed if seed is None else seed
        self.data_root = data_root
        self.listener = listener
        self.session_options = session_options
        self.fixed = fixed_hash(task)
        self._session: Session | None = None
        self._cancelled = threading.Event()

    def entry(self, candidate: Candidate) -> Path:
        return self.store.entry_dir(self.task.id, self.profile, self.seed, self.fixed,
                                    candidate.region_hash(self.task))

    def cached(self, candidate: Candidate) -> StoredResult | None:
        return self.store.lookup(self.entry(candidate))

    def rescore(self, candidate: Candidate) -> Outcome:
        """The candidate's result: from the store, or run now (resuming a killed run)."""
        entry = self.entry(candidate)
        self.store.add_name(entry, candidate.name)
        stored = self.store.lookup(entry)
        if stored is not None:
            return Outcome(candidate, stored, cached=True)
        session = self._open(entry / "session")
        self._session = session
        try:
            self._drive(session, candidate)
            return Outcome(candidate, self._save(entry, session, candidate), cached=False)
        finally:
            self._session = None
            session.close(cancel_running=self._cancelled.is_set())

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the running candidate (Ctrl-C); its finished settings stay recorded."""
        self._cancelled.set()
        session = self._session
        if session is not None and session.state.active_run() is not None:
            try:
                session.cancel()
            except Refused:
                pass  # it ended as we asked

    # -- the internal session -------------------------------------------------------------
    def _open(self, root: Path) -> Session:
        journals = sorted(root.glob(f"{self.task.id}/*/journal.jsonl"))
        if journals:
            session = Session.open(journals[-1].parent, self.task, **self.session_options)
            if not (session.state.closed and _retry_needed(session.state.submission)):
                return session
            session.close()  # a submission whose hidden runs were lost: start over
            shutil.rmtree(root)
        return Session.create(self.task, sessions_dir=root, profile=self.profile, seed=self.seed,
                              data_root=self.data_root, person="rescore", **self.session_options)

    def _drive(self, session: Session, candidate: Candidate) -> None:
        if self.listener is not None:
            session.subscribe(self.listener)
        while not session.state.closed:
            if self._cancelled.is_set():
                raise RescoreFailed("cancelled; run the same rescore again to resume")
            state = session.state
            if state.active_run() is not None:
                self._follow(session.reattach())
                continue
            last = state.tests[-1] if state.tests else None
            if last is None or _retry_needed(last):
                if state.budget_left <= 0:
                    raise RescoreFailed(f"every test of the internal session {session.dir} was cancelled "
                                        "or lost; remove that folder to start over")
                for path, text in candidate.files.items():
                    session.replace_text(path, text)
                self._follow(session.start_test())
            else:
                self._follow(session.start_submit(last.key.n))

    def _follow(self, controller) -> None:
        while controller is not None and not controller.wait(0.2):
            pass

    def _save(self, entry: Path, session: Session, candidate: Candidate) -> StoredResult:
        state = session.state
        submission = state.submission
        assert submission is not None
        tested = state.tests[submission.key.n - 1]
        sources = {**{label: session.folder.metrics_source(tested.key, r) for label, r in tested.settings.items()},
                   **{label: session.folder.metrics_source(submission.key, r) for label, r in submission.settings.items()}}
        records = {**tested.settings, **submission.settings}
        settings = {label: {"status": r.status, "exit_code": r.exit_code, "detail": r.detail}
                    for label, r in records.items()}
        curves: dict[str, Curve] = {label: list(file_rows(path)) for label, path in sources.items()}
        status = "done" if all(r.status == DONE for r in records.values()) else "failed"
        return self.store.save(
            entry, task_id=self.task.id, profile=self.profile, seed=self.seed, fixed=self.fixed,
            region=candidate.region_hash(self.task), regions=candidate.regions(self.task), status=status,
            results=session.final_results(), settings=settings, curves=curves,
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )


def _retry_needed(run: RunRecord | None) -> bool:
    return run is not None and run.finished and any(s.status in RETRY_STATUSES for s in run.settings.values())
