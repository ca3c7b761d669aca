"""Watch the workspace for edits saved by another editor (watchdog, its own thread)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


class WorkspaceWatcher:
    """Calls `changed(relative_path)` (on watchdog's thread) for the editable files."""

    def __init__(self, root: Path, paths: list[str], changed: Callable[[str], None]):
        self.root = root.resolve()
        self.paths = {os.path.normpath(p): p for p in paths}
        self.changed = changed
        self._observer = None

    def _relative(self, raw: str | bytes) -> str | None:
        text = os.fsdecode(raw)
        try:
            rel = os.path.normpath(os.path.relpath(os.path.realpath(text), self.root))
        except ValueError:
            return None
        return self.paths.get(rel)

    def start(self) -> bool:
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # pragma: no cover - watchdog is a dependency
            return False
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    if raw:
                        rel = watcher._relative(raw)
                        if rel is not None:
                            watcher.changed(rel)

        observer = Observer()
        folders = {str((self.root / p).parent) for p in self.paths.values()}
        for folder in folders:
            observer.schedule(Handler(), folder, recursive=False)
        observer.daemon = True
        try:
            observer.start()
        except OSError:  # e.g. out of inotify watches: the app works without it
            return False
        self._observer = observer
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None
