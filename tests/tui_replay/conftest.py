"""Fixtures for the replay screen's tests: replays of the fake task, and an app driver."""

from __future__ import annotations

import functools
from pathlib import Path

from tests import pilot
from tests.conftest import FIXTURE_TASKS, ROOT  # noqa: F401

REPLAY_FIXTURES = ROOT / "tests" / "replay" / "fixtures"
SEEDS = ROOT.parent / "shared" / "seeds"


def fixture_path(name: str) -> Path:
    return REPLAY_FIXTURES / name


# the replay screen answers fast: a shorter wait than the main app's
wait_for = functools.partial(pilot.wait_for, timeout=10.0)
