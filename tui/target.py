"""What a person has to beat, for the target banner: the metric and its direction, and the best
baseline and the best agent of the profile's one leaderboard (never another profile's); on a
profile that is not the published protocol, what its runs train (the task's `plan`). No Textual.
"""

from __future__ import annotations

from sessions.leaderboard import Board, Row, best_row, format_value
from tasks.spec import TaskSpec

ARROWS = {"max": "↑", "min": "↓"}


def metric_words(task: TaskSpec) -> str:
    """The primary metrics, each once, with its direction: "test_acc ↑" (higher is better)."""
    rules = {r.key: r for r in task.metrics if r.primary}.values()
    return ", ".join(f"{r.key} {ARROWS[r.direction]}" for r in rules)


def visible_primary(task: TaskSpec) -> list[str]:
    """The metric names a test shows (visible settings, primary rules), in setting order."""
    return [r.metric_name(s) for s in task.settings if not s.hidden for r in task.metrics
            if r.primary and r.applies_to(s.label)]


def row_words(row: Row, names: list[str]) -> str:
    name = row.entry.partition(":")[2] or row.entry
    return f"{name} {'/'.join(format_value(row.values.get(n)) for n in names)}"


def rescore_hint(task: TaskSpec, profile: str) -> str:
    return f"mlsbench-tui rescore --task {task.id} --profile {profile} --baselines"


def target_line(task: TaskSpec, profile: str, board: Board | None) -> str:
    """One line: the metric, then the best baseline and agent of `board` (None: not read yet),
    their names and numbers first (they fit 100 columns), where they come from last."""
    head = f"To beat ({metric_words(task)}):"
    if board is None:
        return f"{head} reading the {profile} leaderboard…"
    baseline, agent = best_row(board, "baseline"), best_row(board, "agent")
    if baseline is None and agent is None:
        return f"{head} nothing re-scored on {profile} yet (no ghosts); to measure the baselines:"
    names = visible_primary(task)
    parts = [f"{kind} {row_words(row, names)}" if row else f"no {kind} on {profile} yet"
             for kind, row in (("baseline", baseline), ("agent", agent))]
    provenance = ", ".join(dict.fromkeys(r.provenance for r in (baseline, agent) if r is not None))
    return f"{head} {' · '.join(parts)} · the best on {profile}, {provenance}"


def plan_line(task: TaskSpec, profile: str) -> str | None:
    """What a run of a profile that is not the published protocol trains, and so why its
    numbers are low; None on a comparable profile."""
    info = task.profiles.get(profile)
    if info is None or info.comparable:
        return None
    if info.plan:
        return f"{profile} runs {info.plan}: far less than the paper's, so scores are low and not comparable"
    return f"{profile}: {info.summary} Scores are not comparable with published ones."


def banner_lines(task: TaskSpec, profile: str, board: Board | None) -> list[str]:
    """The banner: the target line, then what this profile's runs train; with nobody to
    beat yet, the command that measures the baselines comes first on the second line
    (so that it is whole at 100 columns)."""
    lines = [target_line(task, profile, board)]
    plan = plan_line(task, profile)
    nobody = board is not None and best_row(board, "baseline") is None and best_row(board, "agent") is None
    if nobody:
        lines.append(rescore_hint(task, profile) + (f" · {plan}" if plan else ""))
    elif plan:
        lines.append(plan)
    return lines
