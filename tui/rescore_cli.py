"""`mlsbench-tui rescore`: re-score baselines, agents and sessions, with progress on the terminal.

On a terminal one status line is rewritten in place (candidate, setting,
progress, ETA); piped, plain lines are printed at each status change and
every tenth of a setting's progress, so a log file stays short.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from sessions.errors import Refused
from sessions.events import LogLines, Progress, SettingStatus
from sessions.leaderboard import board_json, board_lines, build_board
from sessions.rescore import Outcome, Rescorer
from sessions.rescore_candidates import (
    Candidate,
    ScanReport,
    agent_runs,
    baseline_candidate,
    baseline_candidates,
    session_candidate,
)
from sessions.rescore_archive import archive_target, comparison_lines
from sessions.rescore_reference import write_reference
from sessions.rescore_store import ResultsStore, default_results_dir
from sessions.store import find_session
from tasks.spec import PROFILES, TaskSpec


def add_rescore_parser(sub, common) -> None:
    p = sub.add_parser("rescore", help="re-score baselines, agents and sessions on every setting, hidden included")
    common(p, top=False)
    p.add_argument("archive", nargs="?", type=Path, metavar="FILE",
                   help="an exported session (`session export`): verified, then its submission re-scored here "
                        "on its profile and seed, and both numbers shown")
    p.add_argument("--task", help="the task (not with FILE: the archive names it)")
    p.add_argument("--profile", choices=PROFILES, help="paper | quick | demo (default: paper with a GPU, else demo)")
    p.add_argument("--seed", type=int, help="training seed (default: the task's, 42)")
    p.add_argument("--baselines", action="store_true", help="the scaffold default and every shipped baseline")
    p.add_argument("--baseline", action="append", default=[], metavar="NAME",
                   help="one baseline (`default` is the scaffold as shipped); repeatable")
    p.add_argument("--agents", type=Path, action="append", default=[], metavar="PATH",
                   help="agent conversations: JSON exports or text transcripts, files or folders (recursive)")
    p.add_argument("--session", action="append", default=[], metavar="ID", help="a person's submitted session")
    p.add_argument("--results-dir", type=Path, help="the results store (env MLSBENCH_RESULTS)")
    p.add_argument("--write-reference", action="store_true",
                   help="write tasks/<id>/reference-<profile>.json from what was re-scored")


class CandidateChoiceError(Refused):
    """Nothing (or nothing known) to re-score was asked for."""


def gather(ctx, task: TaskSpec, out: TextIO) -> tuple[list[Candidate], ScanReport | None]:
    """The candidates the options name (agents' runs that cannot be re-scored are reported)."""
    args = ctx.args
    if not (args.baselines or args.baseline or args.agents or args.session):
        raise CandidateChoiceError("what should be re-scored? pass --baselines, --baseline NAME, "
                                   "--agents PATH or --session ID")
    candidates = baseline_candidates(task) if args.baselines else []
    candidates += [baseline_candidate(task, name) for name in args.baseline]
    for sid in args.session:
        try:
            candidates.append(session_candidate(task, find_session(ctx.sessions_dir, sid)))
        except LookupError as exc:
            raise CandidateChoiceError(str(exc)) from None
    report = None
    if args.agents:
        runs, report = agent_runs(task, args.agents, ctx.catalog)
        print(report.summary(), file=out)
        for path, why in report.skipped:
            print(f"  skipped {path}: {why}", file=out)
        for run in runs:
            if run.candidate is None:
                print(f"  not re-scored: {run.name.entry} ({run.name.detail}): {run.why}", file=out)
            else:
                candidates.append(run.candidate)
    return candidates, report


def cmd_rescore(ctx, profile: str) -> None:
    args = ctx.args
    task = ctx.task(args.task)
    out = sys.stderr if args.json else sys.stdout
    candidates, _ = gather(ctx, task, out)
    results_dir = args.results_dir or default_results_dir(ctx.sessions_dir)
    printer = ProgressPrinter(out, len(candidates))
    rescorer = Rescorer(task, ResultsStore(results_dir), profile=profile, seed=args.seed, data_root=args.data_root,
                        listener=printer, **ctx.options())
    outcomes, refused = run_candidates(rescorer, candidates, printer, out)
    if args.write_reference:
        unique = list({o.result.region_hash: rescorer.store.lookup(o.result.dir) for o in outcomes}.values())
        path = write_reference(task, profile, rescorer.seed, unique, reference_command(args, profile, rescorer.seed))
        print(f"wrote {path}", file=out)
    board = build_board(task, ctx.sessions_dir, profile, results_dir=results_dir, catalog=ctx.catalog)
    if args.json:
        print(json.dumps({"outcomes": [outcome_json(o) for o in outcomes], "refused": refused,
                          "board": board_json(board)}, indent=1))
    else:
        print()
        print("\n".join(board_lines(board)))
    if refused:
        raise Refused(f"{len(refused)} of {len(candidates)} candidate(s) were not re-scored:\n" + "\n".join(refused))


def run_candidates(rescorer: Rescorer, candidates: list[Candidate], printer: ProgressPrinter,
                   out: TextIO) -> tuple[list[Outcome], list[str]]:
    """Re-score each candidate in turn (Ctrl-C cancels the one that runs); the outcomes, and
    why each refused one was not re-scored."""
    def interrupt(signum, frame):
        print("\ncancelling the candidate that runs (its finished settings are kept) ...", file=out)
        rescorer.cancel()

    previous = signal.signal(signal.SIGINT, interrupt)
    outcomes: list[Outcome] = []
    refused: list[str] = []
    try:
        for i, candidate in enumerate(candidates, start=1):
            printer.begin(i, candidate.name.entry, rescorer.cached(candidate) is not None)
            try:
                outcomes.append(rescorer.rescore(candidate))
            except Refused as exc:  # this candidate only (its code does not compile, ...): go on
                if rescorer.cancelled:
                    raise
                refused.append(f"{candidate.name.entry} ({candidate.name.detail}): {exc}")
                printer.refused(exc)
                continue
            printer.end(outcomes[-1])
    finally:
        signal.signal(signal.SIGINT, previous)
        printer.close()
    return outcomes, refused


def cmd_rescore_archive(ctx) -> None:
    """`rescore FILE`: verify the archive, re-run its submission here, show both numbers."""
    args = ctx.args
    if args.task or args.baselines or args.baseline or args.agents or args.session or args.write_reference:
        raise CandidateChoiceError("rescore FILE re-scores that archive alone, on the task it names; "
                                   "re-score baselines, agents or sessions in a separate `rescore --task ...`")
    out = sys.stderr if args.json else sys.stdout
    target = archive_target(args.archive, ctx.catalog)
    profile = args.profile or target.profile
    seed = target.seed if args.seed is None else args.seed
    printer = ProgressPrinter(out, 1)
    rescorer = Rescorer(target.task, ResultsStore(args.results_dir or default_results_dir(ctx.sessions_dir)),
                        profile=profile, seed=seed, data_root=args.data_root, listener=printer, **ctx.options())
    outcomes, refused = run_candidates(rescorer, [target.candidate], printer, out)
    if refused:
        raise Refused(f"{args.archive} was verified but not re-scored: {refused[0]}")
    here = outcomes[0].result
    if args.json:
        print(json.dumps({"archive": str(args.archive), "entry": target.candidate.name.entry,
                          "detail": target.candidate.name.detail, "profile": profile, "seed": seed,
                          "archive_profile": target.profile, "archive_seed": target.seed,
                          "archive_results": target.results, "results": here.results, "status": here.status,
                          "cached": outcomes[0].cached}, indent=1))
    else:
        print()
        print("\n".join(comparison_lines(target, here.results, profile, seed)))


def reference_command(args, profile: str, seed: int) -> str:
    """The command as a shipped reference records it: folders by their name only, no paths of this machine."""
    parts = ["mlsbench-tui rescore", f"--task {args.task}", f"--profile {profile}", f"--seed {seed}"]
    parts += ["--baselines"] if args.baselines else []
    parts += [f"--baseline {name}" for name in args.baseline]
    parts += [f"--agents {path.name}" for path in args.agents]
    parts += [f"--session {sid}" for sid in args.session]
    return " ".join([*parts, "--write-reference"])


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    r = outcome.result
    return {"entry": outcome.candidate.name.entry, "detail": outcome.candidate.name.detail, "cached": outcome.cached,
            "status": r.status, "seed": r.seed, "region_hash": r.region_hash, "results": r.results,
            "settings": r.settings, "dir": str(r.dir)}


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s" if m else f"{s}s"


class ProgressPrinter:
    """Receives the engine's events (on its threads) and prints the candidate's progress."""

    def __init__(self, out: TextIO, total: int):
        self.out, self.total = out, total
        self.tty = out.isatty()
        self.lock = threading.Lock()
        self.index, self.entry, self.started = 0, "", 0.0
        self.durations: list[float] = []  # candidates run here (not cached), seconds
        self.progress: dict[str, Progress] = {}
        self.deciles: dict[str, int] = {}
        self.width = 0

    def __call__(self, event: Any) -> None:
        if isinstance(event, LogLines):
            return
        with self.lock:
            if isinstance(event, SettingStatus):
                code = f" (exit {event.exit_code})" if event.exit_code not in (None, 0) else ""
                detail = f": {event.detail}" if event.detail else ""
                self._line(f"{self._head()} {event.label} ({event.run}): {event.status}{code}{detail}")
            elif isinstance(event, Progress):
                self.progress[event.label] = event
                decile = int(10 * event.done / event.total) if event.total else 0
                if self.tty:
                    self._status()
                elif decile != self.deciles.get(event.label):
                    self.deciles[event.label] = decile
                    self._line(f"{self._head()} {self._progress_text(event)}; ETA {self._eta()}")

    def _head(self) -> str:
        return f"[{self.index}/{self.total}] {self.entry}"

    @staticmethod
    def _progress_text(p: Progress) -> str:
        return f"{p.label} {p.unit} {p.done:g}/{p.total:g}"

    def _eta(self) -> str:
        running = [p.eta_seconds for p in self.progress.values() if p.eta_seconds is not None and p.done < p.total]
        here = max(running) if running else None
        left = self.total - self.index
        if here is None:
            return "?"
        if left and self.durations:
            return f"{_clock(here)} this candidate, ~{_clock(here + left * sum(self.durations) / len(self.durations))} all"
        return _clock(here)

    def _status(self) -> None:
        running = [p for p in self.progress.values() if p.done < p.total] or list(self.progress.values())
        text = f"{self._head()} · " + ", ".join(self._progress_text(p) for p in running) + f" · ETA {self._eta()}"
        self.out.write("\r" + text.ljust(self.width))
        self.out.flush()
        self.width = len(text)

    def _line(self, text: str) -> None:
        if self.tty and self.width:
            self.out.write("\r" + " " * self.width + "\r")
            self.width = 0
        print(text, file=self.out, flush=True)

    def begin(self, index: int, entry: str, cached: bool) -> None:
        with self.lock:
            self.index, self.entry, self.started = index, entry, time.monotonic()
            self.progress.clear()
            self.deciles.clear()
            if not cached:
                self._line(f"{self._head()}: running every setting (visible, then hidden)")

    def end(self, outcome: Outcome) -> None:
        with self.lock:
            took = time.monotonic() - self.started
            if not outcome.cached:
                self.durations.append(took)
            how = "from the results store" if outcome.cached else f"in {_clock(took)}"
            values = ", ".join(f"{k}={v}" for k, v in outcome.result.results.items()) or "no results"
            self._line(f"{self._head()}: {outcome.result.status} {how}: {values}")

    def refused(self, reason: Exception) -> None:
        with self.lock:
            self._line(f"{self._head()}: not re-scored: {reason}")

    def close(self) -> None:
        with self.lock:
            if self.tty and self.width:
                self.out.write("\n")
                self.out.flush()
