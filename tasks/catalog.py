"""Finding task folders: the built-in ones plus the folders the caller names
(the settings' MLSBENCH_TASKS, then --tasks-dir)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tasks.spec import TaskSpec, TaskSpecError, load_task

BUILTIN_DIR = Path(__file__).resolve().parent


class UnknownTask(KeyError):
    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class CatalogEntry:
    folder: Path
    spec: TaskSpec | None
    error: TaskSpecError | None


def search_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """Built-in tasks first; later folders override a task id of earlier ones."""
    return [BUILTIN_DIR, *(Path(p) for p in extra)]


def _task_folders(root: Path) -> list[Path]:
    if (root / "task.toml").is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "task.toml").is_file())


class Catalog:
    def __init__(self, extra_dirs: Iterable[Path] = ()):
        self.dirs = search_dirs(extra_dirs)
        found: dict[str, CatalogEntry] = {}
        for root in self.dirs:
            for folder in _task_folders(root):
                try:
                    entry = CatalogEntry(folder, load_task(folder), None)
                except TaskSpecError as exc:
                    entry = CatalogEntry(folder, None, exc)
                found[folder.name] = entry
        self.entries = dict(sorted(found.items()))

    def get(self, task_id: str) -> TaskSpec:
        entry = self.entries.get(task_id)
        if entry is None:
            known = ", ".join(self.entries) or "none"
            raise UnknownTask(f"no task {task_id!r}; known tasks: {known}")
        if entry.error is not None:
            raise entry.error
        assert entry.spec is not None
        return entry.spec
