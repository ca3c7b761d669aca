"""Waking a log tailer when its file grows, through watchdog.

On network file systems change events may never arrive, so the polling
observer can be chosen; either way a waiter also wakes after its timeout,
and the tailer then simply reads again.
"""

from __future__ import annotations

import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver


class _Wake(FileSystemEventHandler):
    def __init__(self, watcher: LogWatcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.watcher.touched(Path(str(event.src_path)))


class LogWatcher:
    """One observer for many log files; `waiter(path).wait(t)` returns early on a change."""

    def __init__(self, polling: bool = False, poll_interval: float = 1.0):
        self._observer = PollingObserver(timeout=poll_interval) if polling else Observer()
        self._observer.daemon = True
        self._events: dict[Path, threading.Event] = {}
        self._watched: set[Path] = set()
        self._lock = threading.Lock()
        self._observer.start()

    def waiter(self, path: Path) -> threading.Event:
        path = path.resolve() if path.parent.exists() else path
        with self._lock:
            event = self._events.setdefault(path, threading.Event())
            folder = path.parent
            if folder not in self._watched and folder.is_dir():
                self._observer.schedule(_Wake(self), str(folder), recursive=False)
                self._watched.add(folder)
        return event

    def touched(self, path: Path) -> None:
        event = self._events.get(path)
        if event is not None:
            event.set()

    def stop(self) -> None:
        self._observer.stop()
