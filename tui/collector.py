"""Garbage collection at quiet moments, for a process that runs nothing but the app.

Textual's strips keep references to themselves in their caches (a strip that needs
no cutting or resizing caches itself), so every frame leaves cyclic garbage that only
the collector frees. Left to itself the collector runs when allocations reach a
threshold, which while logs stream is in the middle of a frame or of a key's
update: full passes took 100-300 ms there, young passes with a larger threshold up
to 150 ms, and they were the worst key delays. Here the automatic collector is off,
what exists once the first screen is up (Textual, the screen, the task) is frozen
out of every pass, and small passes run on a timer, skipped while the person types
(but never for long). A full pass (50-100 ms while logs stream) waits for a real pause
in the typing, which a person makes every few seconds; it is forced only after
FULL_MAX_DEFER seconds of non-stop typing.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

PERIOD = 0.1  # seconds between young passes: each frees ~a frame's garbage (a few ms)
YOUNG_QUIET = 0.25  # seconds without a key before a young pass runs...
MAX_DEFER = 1.0  # ...but it waits no longer than this
FULL_EVERY = 5.0  # seconds between full passes
FULL_QUIET = 1.0  # seconds without a key before a full pass runs...
FULL_MAX_DEFER = 30.0  # ...but it waits no longer than this


class QuietCollector:
    def __init__(self, quiet_for: Callable[[], float]):
        """quiet_for: seconds since the person's last key press."""
        self.quiet_for = quiet_for
        now = time.monotonic()
        self._last, self._last_full = now, now

    def start(self) -> None:
        gc.disable()
        gc.freeze()

    def tick(self) -> None:
        now = time.monotonic()
        quiet = self.quiet_for()
        since_full = now - self._last_full
        full = since_full >= FULL_MAX_DEFER or (since_full >= FULL_EVERY and quiet >= FULL_QUIET)
        if not full and quiet < YOUNG_QUIET and now - self._last < MAX_DEFER:
            return
        gc.collect(2 if full else 1)
        self._last = now
        if full:
            self._last_full = now
