"""Opponents' per-epoch curves for the live view ("ghosts" under a person's own curve).

    ghosts = ghost_curves(task, "demo", "resnet20-cifar100mt")
    ghosts.best_baseline   # Ghost(name, values, curve) or None
    ghosts.agents          # [Ghost, ...]

Read from the local results store and the task's shipped reference (a local
re-score of the same entry wins); cheap enough to call when a test starts:
it reads a few small JSON files and never runs anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sessions.leaderboard import entry_label
from sessions.rescore_candidates import fixed_hash
from sessions.rescore_reference import read_reference
from sessions.rescore_store import Curve, ResultsStore, StoredResult, default_results_dir
from tasks.spec import TaskSpec


@dataclass(frozen=True)
class Ghost:
    entry: str  # as the leaderboard names it: "baseline:dwa", "agent:<model>"
    detail: str
    seed: int
    value: float | None  # the setting's primary result (what the table shows)
    curve: Curve  # TRAIN_METRICS rows of this setting, in order


@dataclass(frozen=True)
class Ghosts:
    metric: str | None  # the setting's primary metric name
    direction: str | None  # max | min
    best_baseline: Ghost | None
    agents: list[Ghost]


def ghost_curves(task: TaskSpec, profile: str, setting: str, *, seed: int | None = None,
                 results_dir: Path | None = None) -> Ghosts:
    """The best baseline's and each agent's curve of `setting` on `profile` (seed: the task's).

    `results_dir`: the store beside the session's sessions folder (`default_results_dir(sessions_dir)`)."""
    return setting_ghosts(task, setting, opponents(task, profile, seed=seed, results_dir=results_dir))


def opponents(task: TaskSpec, profile: str, *, seed: int | None = None,
              results_dir: Path | None = None) -> list[StoredResult]:
    """What was re-scored of `task` on `profile` and `seed` (the task's by default): the local
    store's results, then the shipped reference's of the entries not re-scored here. Read
    once for every setting: it reads the store, the reference and the task's fixed files."""
    seed = task.default_seed if seed is None else seed
    store = ResultsStore(results_dir or default_results_dir())
    here = [r for r in store.results(task.id, profile, fixed_hash(task)) if r.seed == seed]
    measured = {r.region_hash for r in here}
    return here + [r for r in read_reference(task, profile) if r.seed == seed and r.region_hash not in measured]


def setting_ghosts(task: TaskSpec, setting: str, found: list[StoredResult]) -> Ghosts:
    """The best baseline's and each agent's curve of `setting` among the `opponents`."""
    rule = next((r for r in task.metrics if r.primary and r.applies_to(setting)), None)
    metric = rule.metric_name(task.setting(setting)) if rule else None
    ghosts = [_ghost(r, setting, metric) for r in found if r.status == "done"]
    baselines = [(g, kind) for g, kind in ghosts if kind == "baseline" and g.value is not None]
    best = None
    if baselines and rule is not None:
        pick = max if rule.direction == "max" else min
        best = pick(baselines, key=lambda pair: pair[0].value)[0]
    agents = [g for g, kind in ghosts if kind == "agent"]
    return Ghosts(metric, rule.direction if rule else None, best, agents)


def _ghost(stored: StoredResult, setting: str, metric: str | None) -> tuple[Ghost, str]:
    entry, kind, detail = entry_label(stored.names)
    try:
        value = float(stored.results[metric]) if metric else None
    except (KeyError, ValueError):
        value = None
    return Ghost(entry, detail, stored.seed, value, stored.curves().get(setting, [])), kind
