"""One leaderboard, everywhere: baselines, agents and people, one profile at a time.

Every row says where its number comes from:
- published: MLS-Bench's own results (baselines, and the final table an agent
  conversation shows); measured under the `paper` protocol, so only on a
  comparable profile's board;
- re-scored here: run by `mlsbench-tui rescore` on this machine (results store);
- re-scored (shipped): from the task's `reference-<profile>.json`, made by
  `rescore --write-reference` where the project was built;
- yours: local sessions' submissions;
- verified archive: another person's session, exported and verified here.
Re-scored numbers sit beside published ones, never replace them. The CLI,
the app's board and the final-results screen all build their rows here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

from sessions.rescore_candidates import (
    DEFAULT,
    Name,
    ScanReport,
    agent_runs,
    baseline_candidate,
    default_candidate,
    fixed_hash,
)
from sessions.rescore_reference import read_reference
from sessions.rescore_store import ResultsStore, StoredResult, default_results_dir
from sessions.settings import current_settings
from sessions.store import list_sessions
from tasks.spec import TaskSpec

PUBLISHED, RESCORED_HERE, RESCORED_SHIPPED, YOURS = "published", "re-scored here", "re-scored (shipped)", "yours"
NOT_MEASURED = "not measured"  # the scaffold default's row before anyone re-scored it
VERIFIED_ARCHIVE = "verified archive"  # another person's session, exported and verified here
PROVENANCE_ORDER = (PUBLISHED, RESCORED_HERE, RESCORED_SHIPPED, YOURS, VERIFIED_ARCHIVE, NOT_MEASURED)


@dataclass(frozen=True)
class Row:
    entry: str  # "baseline:dwa", "baseline:equal (default)", "agent:<model>", "person:<name>"
    kind: str  # baseline | agent | person
    values: dict[str, float | None]
    detail: str = ""  # file and run, session id, ...
    provenance: str = PUBLISHED
    seeds: str = ""  # the seed(s) behind the numbers: "42" or "42, 123, 456"
    region: str = ""  # re-scored rows: the hash of the region that ran


@dataclass(frozen=True)
class Board:
    task_id: str
    profile: str
    comparable: bool
    metrics: dict[str, str]  # name -> max | min
    rows: list[Row]  # best first (mean rank)
    ranks: list[float | None] = field(default_factory=list)  # mean rank of each row (1 = best)
    agents_scan: ScanReport | None = None


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def numbers(values: dict) -> dict[str, float | None]:
    return {k: _number(v) for k, v in values.items()}


# -- the sources -----------------------------------------------------------------------------------
def published_rows(task: TaskSpec, seed: str = "mean") -> list[Row]:
    """MLS-Bench's published rows (paper protocol), one per entry for `seed`."""
    if task.reference is None:
        return []
    seeds: dict[str, list[str]] = defaultdict(list)
    for raw in task.reference.rows:
        if str(raw.get("seed", "mean")) != "mean":
            seeds[str(raw["entry"])].append(str(raw["seed"]))
    rows = []
    for raw in task.reference.rows:
        if str(raw.get("seed", "mean")) != seed:
            continue
        entry = str(raw["entry"])
        kind = entry.split(":", 1)[0] if ":" in entry else "baseline"
        values = numbers({k: v for k, v in raw.items() if k not in ("entry", "seed")})
        behind = ", ".join(sorted(seeds[entry], key=_seed_order)) if seed == "mean" else seed
        rows.append(Row(entry, kind, values, "mean of the published seeds" if seed == "mean" else "",
                        PUBLISHED, behind))
    return rows


def _seed_order(seed: str) -> tuple[int, str]:
    return (0, f"{int(seed):012d}") if seed.isdigit() else (1, seed)


def local_rows(task: TaskSpec, sessions_dir: Path | None, profile: str) -> list[Row]:
    """People: the submitted local sessions of this profile."""
    if sessions_dir is None:
        return []
    rows, counted = [], set()
    # A copied session folder keeps its journal's identity: count it once, by its first
    # submission, the original before its copies.
    for summary in sorted(list_sessions(sessions_dir, task.id), key=lambda s: (s.submitted_at, bool(s.copy_of))):
        if summary.closed and summary.profile == profile and not summary.problem and summary.identity not in counted:
            counted.add(summary.identity)
            who = summary.person or "anonymous"
            rows.append(Row(f"person:{who}", "person", numbers(summary.results),
                            f"session {summary.id}, test #{summary.submitted_test}", YOURS, str(summary.seed)))
    return rows


def entry_label(names: Sequence[Name]) -> tuple[str, str, str]:
    """(entry, kind, detail) for a region that stands for one or more names.

    The scaffold default shares its region with the baseline it is (equal,
    relu, v_pbgd), and is shown as that baseline marked "(default)"."""
    others = [n for n in names if n.entry != DEFAULT]
    is_default = len(others) < len(names)
    if not others:
        return DEFAULT, "baseline", "the scaffold as shipped"
    first = others[0]
    entry = first.entry + (" (default)" if is_default and first.kind == "baseline" else "")
    extra = [n.entry for n in others[1:]]
    detail = first.detail + (f"; also {', '.join(extra)}" if extra else "")
    return entry, first.kind, detail


def stored_rows(results: Iterable[StoredResult], provenance: str) -> list[Row]:
    """Re-scored results, one row per region: the mean over its seeds."""
    grouped: dict[str, list[StoredResult]] = defaultdict(list)
    for stored in results:
        grouped[stored.region_hash].append(stored)
    rows = []
    for region, group in grouped.items():
        entry, kind, detail = entry_label(group[0].names)
        failed = sorted({label for g in group for label, s in g.settings.items() if s.get("status") != "done"})
        if failed:
            detail += f"; failed: {', '.join(failed)}"
        values = {}
        for name in sorted({name for g in group for name in g.results}):
            got = [v for g in group if (v := _number(g.results.get(name))) is not None]
            values[name] = sum(got) / len(got) if len(got) == len(group) else None
        seeds = ", ".join(str(s) for s in sorted({g.seed for g in group}))
        rows.append(Row(entry, kind, values, detail, provenance, seeds, region))
    return rows


AGENT_PUBLISHED_DETAIL = "as its conversation reports it"


def agent_published_rows(task: TaskSpec, paths: Iterable[Path], catalog=None) -> tuple[list[Row], ScanReport]:
    """Each submitting run of the conversations under `paths`, with the numbers it reports."""
    runs, report = agent_runs(task, paths, catalog)
    rows = []
    for run in runs:
        if run.name.submitted and run.published:
            rows.append(Row(run.name.entry, "agent", numbers(run.published),
                            f"{run.name.detail}, {AGENT_PUBLISHED_DETAIL}", PUBLISHED, ""))
    return rows, report


def agent_paths(paths: Iterable[Path]) -> list[Path]:
    """The paths named, and those of the `agents` setting (MLSBENCH_AGENTS)."""
    return [*current_settings().agent_paths, *paths]


# -- the board -----------------------------------------------------------------------------------------
def build_board(task: TaskSpec, sessions_dir: Path | None, profile: str, agents: Iterable[Path] = (), *,
                results_dir: Path | None = None, catalog=None) -> Board:
    """Every row of this profile, best first; nothing of another profile."""
    metrics = task.metric_directions()
    comparable = task.profiles[profile].comparable if profile in task.profiles else False
    store = ResultsStore(results_dir or default_results_dir(sessions_dir))
    here = stored_rows(store.results(task.id, profile, fixed_hash(task)), RESCORED_HERE)
    measured = {(r.region, r.seeds) for r in here}
    shipped = [r for r in stored_rows(read_reference(task, profile), RESCORED_SHIPPED)
               if (r.region, r.seeds) not in measured]
    rows = [*here, *shipped, *local_rows(task, sessions_dir, profile)]
    scan = None
    paths = agent_paths(agents)
    if comparable:
        published = published_rows(task)
        agent_rows, scan = agent_published_rows(task, paths, catalog) if paths else ([], None)
        rows = [*published, *agent_rows, *rows]
    elif paths:
        scan = agent_runs(task, paths, catalog)[1]
    rows = _with_default(task, rows, profile)
    ranks = mean_ranks(rows, metrics)
    order = sorted(range(len(rows)), key=lambda i: (ranks[i] is None, ranks[i] or 0.0,
                                                    PROVENANCE_ORDER.index(rows[i].provenance), i))
    return Board(task.id, profile, comparable, metrics, [rows[i] for i in order], [ranks[i] for i in order], scan)


def _with_default(task: TaskSpec, rows: list[Row], profile: str) -> list[Row]:
    """The scaffold default always has a row: marked on its baseline's rows, or a row of its own."""
    default = default_candidate(task)
    twin = next((b.name for b in task.baselines if _same_region(task, b.name, default)), None)
    entry = f"baseline:{twin} (default)" if twin else DEFAULT
    if twin:
        rows = [replace(r, entry=entry) if r.entry == f"baseline:{twin}" else r for r in rows]
    if any(r.entry == entry for r in rows):
        return rows
    hint = (f"not measured on this profile yet: `mlsbench-tui rescore --task {task.id} --profile {profile} "
            "--baseline default` measures it")
    return [*rows, Row(entry, "baseline", {}, hint, NOT_MEASURED, "")]


def _same_region(task: TaskSpec, baseline: str, default) -> bool:
    return baseline_candidate(task, baseline).region_hash(task) == default.region_hash(task)


def mean_ranks(rows: Sequence[Row], directions: dict[str, str]) -> list[float | None]:
    """Each row's mean rank over the metrics it has (1 = best; ties share the better place)."""
    ranks: list[list[int]] = [[] for _ in rows]
    for name, direction in directions.items():
        have = [(r.values.get(name), i) for i, r in enumerate(rows) if r.values.get(name) is not None]
        have.sort(key=lambda t: -t[0] if direction == "max" else t[0])
        for value, i in have:
            first = next(p for p, (v, _) in enumerate(have) if v == value)
            ranks[i].append(first + 1)
    return [sum(r) / len(r) if r else None for r in ranks]


def best_row(board: Board, kind: str) -> Row | None:
    """The best-ranked row of `kind` (baseline | agent | person) that has numbers, or None."""
    return next((r for r, rank in zip(board.rows, board.ranks) if r.kind == kind and rank is not None), None)


# -- text ------------------------------------------------------------------------------------------------
def format_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if abs(value) < 1e5 else f"{value:.4g}"


def text_table(head: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body]]


def profile_note(board: Board) -> str:
    if board.comparable:
        return "Published numbers (paper protocol) with re-scored ones beside them, never replaced."
    return (f"Profile {board.profile} is not comparable with the published (paper) numbers, so none are "
            "shown; only results of this profile are ranked.")


def board_lines(board: Board) -> list[str]:
    """A plain-text table of a board."""
    names = list(board.metrics)
    head = ["#", "entry", *names, "mean rank", "from", "seeds", "detail"]
    body = [[str(i) if rank is not None else "-", r.entry, *(format_value(r.values.get(n)) for n in names),
             "-" if rank is None else f"{rank:.2f}", r.provenance, r.seeds or "-", r.detail]
            for i, (r, rank) in enumerate(zip(board.rows, board.ranks), start=1)]
    arrows = {"max": "higher is better", "min": "lower is better"}
    lines = [
        f"Leaderboard: {board.task_id} (profile {board.profile})",
        *(f"  {n}: {arrows[d]}" for n, d in board.metrics.items()),
        f"  {profile_note(board)}",
    ]
    if board.agents_scan is not None:
        lines.append(f"  {board.agents_scan.summary()}")
    lines.append("")
    lines.extend(text_table(head, body))
    return lines


def board_json(board: Board) -> dict:
    return {
        "task": board.task_id, "profile": board.profile, "comparable": board.comparable, "metrics": board.metrics,
        "rows": [{"entry": r.entry, "kind": r.kind, "values": r.values, "mean_rank": rank,
                  "provenance": r.provenance, "seeds": r.seeds, "detail": r.detail}
                 for r, rank in zip(board.rows, board.ranks)],
        **({"agents_scan": {"read": [str(p) for p in board.agents_scan.read],
                            "skipped": [{"path": str(p), "why": why} for p, why in board.agents_scan.skipped]}}
           if board.agents_scan is not None else {}),
    }


def ranked_with(board: Board, row: Row) -> Board:
    """The board with one more row (a submission not in the sessions folder read), re-ranked."""
    rows = [row, *board.rows]
    ranks = mean_ranks(rows, board.metrics)
    order = sorted(range(len(rows)), key=lambda i: (ranks[i] is None, ranks[i] or 0.0, i))
    return replace(board, rows=[rows[i] for i in order], ranks=[ranks[i] for i in order])


def final_table_lines(task: TaskSpec, profile: str, results: dict[str, str]) -> list[str]:
    """A submission ranked among the rows of its own profile (never another profile's)."""
    board = ranked_with(build_board(task, None, profile), Row("you", "person", numbers(results), "this submission", YOURS))
    return ["Final results", *board_lines(board)[1:]]
