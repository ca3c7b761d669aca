"""Fixtures for the replay screen's tests: replays of the fake task, and an app driver."""

from __future__ import annotations

import asyncio
import io
import inspect
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import FIXTURE_TASKS, ROOT  # noqa: F401

REPLAY_FIXTURES = ROOT / "tests" / "replay" / "fixtures"
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests with asyncio (no pytest-asyncio needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
        return True
    return None


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await pilot.pause(0.05)


def fixture_path(name: str) -> Path:
    return REPLAY_FIXTURES / name


def static_text(screen, selector: str) -> str:
    """The plain text a Static shows (a Text, a string, or any Rich renderable)."""
    from rich.console import Console
    from textual.widgets import Static

    content = screen.query_one(selector, Static).content
    if isinstance(content, str) or hasattr(content, "plain"):
        return str(getattr(content, "plain", content))
    console = Console(width=200, color_system=None, file=io.StringIO())
    with console.capture() as captured:
        console.print(content)
    return captured.get()
