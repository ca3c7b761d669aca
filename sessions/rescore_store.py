"""The local results store: re-scored candidates, their results and per-epoch curves.

    <results dir>/<task>/<profile>/seed-<seed>/<fixed hash>/<region hash>/
        names.json    who this region stands for (baselines, agents, people)
        result.json   written once, when every setting (hidden ones included) has ended
        curves.json   per setting, the TRAIN_METRICS rows as numbers, in order
        session/      the internal session that ran it (engine journal, logs)

The key is (task, profile, seed, fixed hash, region hash): the same region
on the same fixed files and protocol is the same experiment, so a second
re-score is a cache hit, and a change to the scaffold or the commands
starts a new folder instead of mixing results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sessions.rescore_candidates import Name
from sessions.settings import current_settings
from sessions.store import write_json

HASH_CHARS = 16  # of the sha256 hex digests, in folder names


def default_results_dir(sessions_dir: Path | None = None) -> Path:
    """MLSBENCH_RESULTS, else `results/` beside the sessions folder (so a cluster's shared
    sessions folder gets a shared results store beside it)."""
    configured = current_settings().results_dir
    return configured or (sessions_dir or current_settings().sessions_dir).parent / "results"


Curve = list[dict[str, float]]  # one dict per TRAIN_METRICS line: key -> number


@dataclass(frozen=True)
class StoredResult:
    """One re-scored region, as the store holds it."""

    dir: Path
    task_id: str
    profile: str
    seed: int
    fixed_hash: str
    region_hash: str
    names: tuple[Name, ...]
    status: str  # done: every setting ended normally | failed: some setting failed
    results: dict[str, str]  # metric -> value as the driver printed it
    settings: dict[str, dict]  # label -> {status, exit_code, detail}
    finished_at: str
    curve_data: dict[str, Curve] | None = None  # held in memory (a shipped reference), else read from dir

    def curves(self) -> dict[str, Curve]:
        return self.curve_data if self.curve_data is not None else read_curves(self.dir)


class ResultsStore:
    def __init__(self, root: Path):
        self.root = root

    def entry_dir(self, task_id: str, profile: str, seed: int, fixed: str, region: str) -> Path:
        return self.root / task_id / profile / f"seed-{seed}" / fixed[:HASH_CHARS] / region[:HASH_CHARS]

    def add_name(self, entry: Path, name: Name) -> None:
        """Record that `name` stands for this entry's region (kept across re-scores)."""
        entry.mkdir(parents=True, exist_ok=True)
        names = _read_names(entry)
        if name not in names:
            write_json(entry / "names.json", [n.__dict__ for n in [*names, name]])

    def lookup(self, entry: Path) -> StoredResult | None:
        """The finished result in `entry`, or None (never run, or still unfinished)."""
        try:
            raw = json.loads((entry / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return StoredResult(
            dir=entry, task_id=raw["task"], profile=raw["profile"], seed=int(raw["seed"]),
            fixed_hash=raw["fixed_hash"], region_hash=raw["region_hash"], names=tuple(_read_names(entry)),
            status=raw["status"], results=dict(raw["results"]), settings=dict(raw["settings"]),
            finished_at=raw.get("finished_at", ""),
        )

    def save(self, entry: Path, *, task_id: str, profile: str, seed: int, fixed: str, region: str,
             regions: dict[str, list[str]], status: str, results: dict[str, str], settings: dict[str, dict],
             curves: dict[str, Curve], finished_at: str) -> StoredResult:
        write_json(entry / "curves.json", curves)
        write_json(entry / "result.json", {
            "task": task_id, "profile": profile, "seed": seed, "fixed_hash": fixed, "region_hash": region,
            "regions": regions, "status": status, "results": results, "settings": settings,
            "finished_at": finished_at,
        })
        stored = self.lookup(entry)
        assert stored is not None
        return stored

    def results(self, task_id: str, profile: str, fixed: str) -> list[StoredResult]:
        """Every finished re-score of the task on this profile and fixed files, all seeds."""
        base = self.root / task_id / profile
        found = []
        for entry in sorted(base.glob(f"seed-*/{fixed[:HASH_CHARS]}/*")):
            stored = self.lookup(entry)
            if stored is not None:
                found.append(stored)
        return found


def _read_names(entry: Path) -> list[Name]:
    try:
        raw = json.loads((entry / "names.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Name(**item) for item in raw]


def read_curves(entry: Path) -> dict[str, Curve]:
    try:
        return json.loads((entry / "curves.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
