"""Opponents' curves under a person's own ("ghosts"): what a setting's plot and table show of them.

The curves come from `sessions.rescore_ghosts` (the results store and the task's shipped
reference, read once for every setting): the best baseline of the setting and each agent,
re-scored on the session's profile. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sessions.rescore_ghosts import Ghost, opponents, setting_ghosts
from sessions.rescore_store import StoredResult
from tasks.spec import TaskSpec

GHOST_COLOURS = ("green", "magenta", "orange", "blue", "red")  # after the person's cyan and grey
TOGGLE_KEY = "F12"
# Seconds between re-reads of the results store by the ghosts and the target banner, so a re-score
# finished in another terminal shows while one plays (a few small JSON files: cheap).
OPPONENTS_REREAD_S = 30.0


@dataclass(frozen=True)
class GhostLine:
    name: str  # short: "better (baseline)", "strong (agent)"
    colour: str
    rows: list[dict[str, float]]  # the setting's TRAIN_METRICS rows, in order
    value: float | None  # the setting's result (its primary metric)


@dataclass(frozen=True)
class SettingGhosts:
    lines: tuple[GhostLine, ...] = ()
    seed: int | None = None  # the seed they ran on
    other_seed: bool = False  # not the session's seed (none were re-scored on it)

    def note(self, profile: str) -> str:
        """The legend's words on the ghosts: who, in which colour (or why there are none)."""
        if not self.lines:
            return f"no ghosts: nothing re-scored on {profile}"
        names = ", ".join(f"{g.colour} {g.name}" for g in self.lines)
        return f"ghosts{f' (seed {self.seed})' if self.other_seed else ''}: {names}"

    def table_rows(self) -> list[tuple[str, dict[str, float]]]:
        """(name without its kind, final row) of each ghost, for the metrics table."""
        return [(g.name.split(" (")[0], g.rows[-1]) for g in self.lines if g.rows]


def short_name(ghost: Ghost) -> str:
    kind, _, name = ghost.entry.partition(":")
    return f"{name} ({kind})" if name else ghost.entry


def label_ghosts(task: TaskSpec, label: str, seed: int, found: dict[int, list[StoredResult]]) -> SettingGhosts:
    """The ghosts of one setting: on the session's seed, else on the task's (the shipped
    references use it), said so in the legend. `found`: the opponents by seed, in that order."""
    for try_seed, stored in found.items():
        ghosts = setting_ghosts(task, label, stored)
        chosen = [g for g in (ghosts.best_baseline, *ghosts.agents) if g is not None and g.curve]
        if chosen:
            lines = tuple(GhostLine(short_name(g), GHOST_COLOURS[i % len(GHOST_COLOURS)], list(g.curve), g.value)
                          for i, g in enumerate(chosen))
            return SettingGhosts(lines, try_seed, try_seed != seed)
    return SettingGhosts()


def load_ghosts(task: TaskSpec, profile: str, labels: list[str], seed: int,
                results_dir: Path) -> dict[str, SettingGhosts]:
    """Every setting's ghosts (reads a few JSON files, once for all settings: call it off the UI thread)."""
    found = {s: opponents(task, profile, seed=s, results_dir=results_dir) for s in dict.fromkeys((seed, task.default_seed))}
    return {label: label_ghosts(task, label, seed, found) for label in labels}
