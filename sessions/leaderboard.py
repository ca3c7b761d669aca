"""Leaderboards: published results and local people's submissions, one profile at a time.

Published rows (MLS-Bench's baselines and agents) were measured under the
`paper` protocol, so they appear only on a comparable profile's board. A
session's final table may still show them beside a demo result, marked as
not comparable.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sessions.store import list_sessions
from tasks.spec import TaskSpec


@dataclass(frozen=True)
class Row:
    entry: str  # "baseline:dwa", "agent:<model>", "person:<name>"
    kind: str  # baseline | agent | person
    values: dict[str, float | None]
    detail: str = ""  # seed, session id, ...


@dataclass(frozen=True)
class Board:
    task_id: str
    profile: str
    comparable: bool
    metrics: dict[str, str]  # name -> max | min
    rows: list[Row]


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def published_rows(task: TaskSpec, seed: str = "mean") -> list[Row]:
    if task.reference is None:
        return []
    rows = []
    for raw in task.reference.rows:
        if str(raw.get("seed", "mean")) != seed:
            continue
        entry = str(raw["entry"])
        kind = entry.split(":", 1)[0] if ":" in entry else "baseline"
        values = {k: _number(v) for k, v in raw.items() if k not in ("entry", "seed")}
        rows.append(Row(entry, kind, values, f"seed {seed}"))
    return rows


def local_rows(task: TaskSpec, sessions_dir: Path, profile: str) -> list[Row]:
    rows, counted = [], set()
    # A copied session folder keeps its journal's identity: count it once, by its first
    # submission, the original before its copies.
    for summary in sorted(list_sessions(sessions_dir, task.id), key=lambda s: (s.submitted_at, bool(s.copy_of))):
        if summary.closed and summary.profile == profile and not summary.problem and summary.identity not in counted:
            counted.add(summary.identity)
            values = {k: _number(v) for k, v in summary.results.items()}
            who = summary.person or "anonymous"
            rows.append(Row(f"person:{who}", "person", values, f"session {summary.id}, seed {summary.seed}"))
    return rows


AGENTS_ENV = "MLSBENCH_AGENTS"
CONVERSATION_SUFFIXES = (".json", ".txt", ".jsonl")


def conversation_files(paths: Iterable[Path]) -> list[Path]:
    """Published agent conversations: the files named, and those in the folders named
    (plus the folders in MLSBENCH_AGENTS)."""
    env = [Path(p) for p in os.environ.get(AGENTS_ENV, "").split(os.pathsep) if p]
    found = []
    for path in [*env, *paths]:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in CONVERSATION_SUFFIXES))
        elif path.is_file():
            found.append(path)
    return found


def agent_rows(task: TaskSpec, paths: Iterable[Path]) -> list[Row]:
    """One row per submitted run of an agent conversation on this task.

    A value the transcript lost (truncated output) stays empty: only what the
    conversation shows is ranked."""
    from sessions.replay import load_replay

    rows = []
    for path in conversation_files(paths):
        replay = load_replay(path, reapply=False).replay
        if replay.task_id != task.id:
            continue
        for run in replay.split_runs():
            if run.submitted_test is None or not run.final:
                continue
            values = {k: _number(v) for k, v in run.final.items()}
            rows.append(Row(f"agent:{replay.who or 'unknown'}", "agent", values,
                            f"{path.name}, submitted test #{run.submitted_test}"))
    return rows


def sort_rows(rows: list[Row], metrics: dict[str, str]) -> list[Row]:
    """Best first by the first metric; rows without it last."""
    if not metrics:
        return rows
    name, direction = next(iter(metrics.items()))
    sign = -1.0 if direction == "max" else 1.0

    def key(row: Row) -> tuple[int, float]:
        value = row.values.get(name)
        return (1, 0.0) if value is None else (0, sign * value)

    return sorted(rows, key=key)


def build_board(task: TaskSpec, sessions_dir: Path, profile: str, agents: Iterable[Path] = ()) -> Board:
    metrics = task.metric_directions()
    comparable = task.profiles[profile].comparable if profile in task.profiles else False
    rows = local_rows(task, sessions_dir, profile)
    if comparable:  # published baselines and agents ran the paper protocol
        rows += published_rows(task) + agent_rows(task, agents)
    return Board(task.id, profile, comparable, metrics, sort_rows(rows, metrics))


def format_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if abs(value) < 1e5 else f"{value:.4g}"


def text_table(head: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body]]


def board_lines(board: Board) -> list[str]:
    """A plain-text table of a board."""
    names = list(board.metrics)
    head = ["entry", *names, "detail"]
    body = [[r.entry, *(format_value(r.values.get(n)) for n in names), r.detail] for r in board.rows]
    arrows = {"max": "higher is better", "min": "lower is better"}
    lines = [
        f"Leaderboard: {board.task_id} (profile {board.profile})",
        *(f"  {n}: {arrows[d]}" for n, d in board.metrics.items()),
    ]
    if not board.comparable:
        lines.append("  Published results are not shown: this profile is not comparable with them.")
    lines.append("")
    lines.extend(text_table(head, body))
    if not body:
        lines.append("(no entries yet)")
    return lines


def final_table_lines(task: TaskSpec, profile: str, results: dict[str, str]) -> list[str]:
    """The submission's results beside the published ones, metric by metric."""
    metrics = task.metric_directions()
    published = published_rows(task)
    comparable = task.profiles[profile].comparable if profile in task.profiles else False
    head = ["metric", "you", *(r.entry for r in published)]
    body = [[name, results.get(name, "-"), *(format_value(r.values.get(name)) for r in published)] for name in metrics]
    lines = ["Final results"]
    if published and not comparable:
        lines.append(f"(profile {profile}: published numbers are from the paper protocol and are not comparable)")
    return lines + text_table(head, body)
