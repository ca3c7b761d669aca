"""Garbage collection at quiet moments, for a process that runs nothing but the app.

Textual's strips keep references to themselves in their caches (a strip that needs
no cutting or resizing caches itself), so every frame leaves cyclic garbage that only
the collector frees. Left to itself the collector runs when allocations reach a
threshold, which while logs stream is in the middle of a frame or of a key's
update: full passes took 100-300 ms there, young passes with a larger threshold up
to 150 ms, and they were the worst key delays. Here the automatic collector is off,
what exists once the first screen is up (Textual, the screen, the task) is frozen
out of every pass, and small passes run on a timer, skipped while the person types
(but never for long), with a full pass now and then.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

PERIOD = 0.1  # seconds between young passes: each frees ~a frame's garbage (a few ms)
FULL_EVERY = 5.0  # seconds between full passes
MAX_DEFER = 1.0  # the longest a pass waits for the person to stop typing


class QuietCollector:
    def __init__(self, busy: Callable[[], bool]):
        self.busy = busy
        now = time.monotonic()
        self._last, self._last_full = now, now

    def start(self) -> None:
        gc.disable()
        gc.freeze()

    def tick(self) -> None:
        now = time.monotonic()
        if self.busy() and now - self._last < MAX_DEFER:
            return
        full = now - self._last_full >= FULL_EVERY
        gc.collect(2 if full else 1)
        self._last = now
        if full:
            self._last_full = now
