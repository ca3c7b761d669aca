"""What `rescore` runs: candidates, each one editable region of a task.

A candidate is the full text of each editable file, checked against the
task's scaffold: its fixed lines must be the scaffold's, so only the region
differs. Sources: the scaffold default, the task's baselines, a person's
submitted session, and published agent conversations (JSON exports and text
transcripts, read through the replay importers).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from sessions.errors import Refused
from sessions.replay.indentation import INDENTATION_LOST
from sessions.ranges import editable_text, fixed_segments, match_ranges
from sessions.state import FileState, sha256_text
from tasks.spec import TaskSpec

DEFAULT = "default"  # the scaffold as shipped, a candidate like the baselines
CONVERSATION_SUFFIXES = (".json", ".txt", ".jsonl")


class CandidateError(Refused):
    """A candidate that cannot be re-scored; the message says why."""


@dataclass(frozen=True)
class Name:
    """Who a region stands for: `default`, `baseline:dwa`, `agent:<model>`, `person:<who>`."""

    entry: str
    kind: str  # baseline | agent | person
    detail: str = ""  # where it came from: file and run, session id, ...
    submitted: bool = True  # False: an agent's last tested region, it submitted nothing


@dataclass(frozen=True)
class Candidate:
    name: Name
    files: dict[str, str]  # editable workspace path -> full text (fixed lines = scaffold)

    def regions(self, task: TaskSpec) -> dict[str, list[str]]:
        """The editable lines of each file, one string per range."""
        return {path: ["\n".join(lines) for lines in region_lines(task, path, text)]
                for path, text in sorted(self.files.items())}

    def region_hash(self, task: TaskSpec) -> str:
        return hashlib.sha256(json.dumps(self.regions(task), sort_keys=True).encode()).hexdigest()


def _scaffold_state(task: TaskSpec, path: str) -> FileState:
    f = task.file(path)
    return FileState.from_text(f.source.read_text(encoding="utf-8"), f.editable)


def region_lines(task: TaskSpec, path: str, text: str) -> list[list[str]]:
    """The candidate's lines in each editable range; refused when a fixed line differs."""
    scaffold = _scaffold_state(task, path)
    lines = FileState.from_text(text, scaffold.ranges).lines
    ranges = match_ranges(fixed_segments(list(scaffold.lines), list(scaffold.ranges)), list(lines))
    if ranges is None:
        raise CandidateError(f"{path}: the fixed lines differ from the scaffold of {task.id}, "
                             "so this is not an edit of the task's editable region")
    return editable_text(list(lines), ranges)


def fixed_hash(task: TaskSpec) -> str:
    """What a result depends on besides the region: the fixed lines of every file and
    the settings' commands. A change to either makes earlier results stale."""
    digest = hashlib.sha256()
    for f in task.files:
        text = f.source.read_text(encoding="utf-8")
        if f.is_editable:
            state = FileState.from_text(text, f.editable)
            text = "\n@@region@@\n".join("\n".join(s) for s in fixed_segments(list(state.lines), list(f.editable)))
        digest.update(f"{f.path}\0{sha256_text(text)}\0".encode())
    for s in task.settings:
        digest.update(f"{s.label}\0{s.command}\0{s.hidden}\0".encode())
    return digest.hexdigest()


# -- baselines and the scaffold default -------------------------------------------------------
def default_candidate(task: TaskSpec) -> Candidate:
    files = {f.path: f.source.read_text(encoding="utf-8") for f in task.editable_files}
    return Candidate(Name(DEFAULT, "baseline", "the scaffold as shipped"), files)


def baseline_candidate(task: TaskSpec, name: str) -> Candidate:
    baseline = next((b for b in task.baselines if b.name == name), None)
    if baseline is None and name == DEFAULT:
        return default_candidate(task)
    if baseline is None:
        known = ", ".join(dict.fromkeys([DEFAULT, *(b.name for b in task.baselines)]))
        raise CandidateError(f"{task.id} has no baseline {name!r}; known: {known}")
    state = _scaffold_state(task, baseline.target)
    first = state.ranges[0]
    files = default_candidate(task).files
    files[baseline.target] = state.edited(first.start, first.end, baseline.text).text
    return Candidate(Name(f"baseline:{name}", "baseline", baseline.title), files)


def baseline_candidates(task: TaskSpec) -> list[Candidate]:
    return [default_candidate(task), *(baseline_candidate(task, b.name) for b in task.baselines)]


# -- a person's session -------------------------------------------------------------------------
def session_candidate(task: TaskSpec, session_dir: Path) -> Candidate:
    """The submitted test's snapshot of a person's session."""
    from sessions.store import summarize

    summary = summarize(session_dir)
    if summary.problem:
        raise CandidateError(f"session {summary.id} cannot be read: {summary.problem}")
    if summary.task_id != task.id:
        raise CandidateError(f"session {summary.id} is of task {summary.task_id}, not {task.id}")
    if summary.submitted_test is None:
        raise CandidateError(f"session {summary.id} has not submitted a test yet; submit one first")
    run_dir = session_dir / "tests" / str(summary.submitted_test) / "run"
    try:
        files = {f.path: (run_dir / f.path).read_text(encoding="utf-8") for f in task.editable_files}
    except (OSError, UnicodeDecodeError) as exc:
        raise CandidateError(f"session {summary.id}: the snapshot of test #{summary.submitted_test} "
                             f"cannot be read ({exc})") from None
    who = summary.person or "anonymous"
    return Candidate(Name(f"person:{who}", "person", f"session {summary.id}, test #{summary.submitted_test}"), files)


# -- agents -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentRegion:
    """Which test of one run of a conversation stands for the agent."""

    n: int
    submitted: bool  # False: no submission, so its last tested region
    files: dict[str, FileState] | None  # the edited files as tested; None: the source lost part of the text
    results: dict[str, str]  # what the conversation reports for it (the final table when submitted)


def agent_region(run) -> AgentRegion | None:
    """The agent's region in one run of a replay (`Replay.split_runs()`).

    The submitted test (the replay counts an auto-submitted last test as
    submitted); with no submission, the last test that ran. None when the run
    tested nothing. The files are None when the source lost part of their text.
    """
    n, submitted = run.submitted_test, True
    if n is None:
        n, submitted = run.last_tested, False
    if n is None:
        return None
    test = next(s for s in reversed(run.tests()) if s.n == n)
    results = dict(run.final) if submitted else test.results()
    return AgentRegion(n, submitted, run.tested_files(n), results)


@dataclass
class ScanReport:
    """What a scan of conversation files read and what it skipped, and why."""

    read: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"agents: read {len(self.read)} conversation file(s), skipped {len(self.skipped)}"
        if self.skipped:
            reasons = Counter(reason for _, reason in self.skipped)
            text += " (" + "; ".join(f"{count} {reason}" for reason, count in reasons.most_common()) + ")"
        return text


def conversation_paths(paths: Iterable[Path], report: ScanReport) -> list[Path]:
    """The files named, and every file under the folders named (recursively)."""
    found = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in CONVERSATION_SUFFIXES:
                    found.append(child)
                else:
                    report.skipped.append((child, "not a conversation file (.json, .txt or .jsonl)"))
        elif path.is_file():
            found.append(path)
        else:
            report.skipped.append((path, "no such file or folder"))
    return found


@dataclass(frozen=True)
class AgentRun:
    """One run of a conversation on the task: its region and what the conversation reported."""

    name: Name
    candidate: Candidate | None  # None: the region cannot be re-scored (`why` says why)
    published: dict[str, str]  # the submitted results as the conversation shows them
    why: str = ""


def agent_runs(task: TaskSpec, paths: Iterable[Path], catalog=None) -> tuple[list[AgentRun], ScanReport]:
    """Every run of every conversation on `task` under `paths`, with the scan's report."""
    from sessions.replay import TEXT, NotAConversation, ReplayError, load_replay

    report = ScanReport()
    out = []
    for path in conversation_paths(paths, report):
        try:
            replay = load_replay(path, catalog).replay
        except NotAConversation:  # e.g. an index of the conversations beside it
            report.skipped.append((path, "not a conversation (no agent steps)"))
            continue
        except ReplayError as exc:
            report.skipped.append((path, f"not readable as a conversation ({exc})"))
            continue
        if not any(step.kind != TEXT for step in replay.steps):
            report.skipped.append((path, "not a conversation (no agent steps)"))
            continue
        if replay.task_id is None:
            report.skipped.append((path, "it does not name its task"))
            continue
        if replay.task_id != task.id:
            report.skipped.append((path, "of another task"))
            continue
        report.read.append(path)
        runs = replay.split_runs()
        for number, run in enumerate(runs, start=1):
            where = path.name + (f" run {number}" if len(runs) > 1 else "")
            out.append(_agent_run(task, run, replay.who or "unknown", where))
    return out, report


def _agent_run(task: TaskSpec, run, who: str, where: str) -> AgentRun:
    region = agent_region(run)
    if region is None:
        why = "no test of this run is in the file"
        return AgentRun(Name(f"agent:{who}", "agent", f"{where}: {why}", False), None, {}, why)
    detail = f"{where}, " + (f"submitted test #{region.n}" if region.submitted
                             else f"last tested #{region.n}, not submitted")
    name = Name(f"agent:{who}", "agent", detail, region.submitted)
    published = region.results if region.submitted else {}
    if region.files is None:
        return AgentRun(name, None, published, f"the text of test #{region.n} is not known exactly (the source lost part of it)")
    files = {f.path: region.files.get(f.path, _scaffold_state(task, f.path)).text  # never edited: the scaffold's
             for f in task.editable_files}
    for path, text in files.items():
        problem = _syntax_problem(path, text)
        if problem:  # the agent's test ran this code, so the source lost part of it
            lost = next((note for step in run.steps for note in step.notes if INDENTATION_LOST in note),
                        "text transcripts can lose indentation, a JSON export keeps it")
            return AgentRun(name, None, published, f"{path} as the source gives it does not compile ({problem}): {lost}")
    candidate = Candidate(name, files)
    try:
        candidate.region_hash(task)
    except CandidateError as exc:
        return AgentRun(name, None, published, str(exc))
    return AgentRun(name, candidate, published)


def _syntax_problem(path: str, text: str) -> str | None:
    if not path.endswith(".py"):
        return None
    try:
        compile(text, path, "exec")
    except SyntaxError as exc:
        return f"{exc.msg}, line {exc.lineno}"
    return None
