"""Fixtures for the app's tests: fake-task sessions with a fixed id and clock."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import FIXTURE_TASKS, ROOT  # noqa: F401

FIXED_ID = "20250101-120000-demo"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests with asyncio (no pytest-asyncio needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
        return True
    return None


@pytest.fixture
def fixed_ids(monkeypatch):
    """Sessions created in a test get the id FIXED_ID (then -2, -3, ...)."""
    import sessions.engine

    counter = iter(range(1, 1000))

    def new_id() -> str:
        n = next(counter)
        return FIXED_ID if n == 1 else f"{FIXED_ID}-{n}"

    monkeypatch.setattr(sessions.engine, "new_session_id", new_id)


@pytest.fixture
def fast_driver(monkeypatch):
    monkeypatch.setenv("FAKE_EPOCHS", "3")
    monkeypatch.setenv("FAKE_SLEEP", "0")
    monkeypatch.delenv("FAKE_SLOW_LABEL", raising=False)
    monkeypatch.delenv("FAKE_SPAM", raising=False)
    monkeypatch.delenv("FAKE_CHECK_FAIL", raising=False)


@pytest.fixture
def session_factory(fake_task, tmp_path, fixed_ids, fast_driver):
    """Sessions of the fake task (closed at teardown, cancelling what still runs)."""
    from sessions.engine import Session

    opened = []

    def make(profile: str = "demo", **options) -> Session:
        session = Session.create(
            fake_task, sessions_dir=tmp_path / "sessions", profile=profile,
            data_root=tmp_path / "data", python=sys.executable, slots=[{}], person="tester", **options,
        )
        opened.append(session)
        return session

    def reopen(directory: Path) -> Session:
        session = Session.open(directory, fake_task, python=sys.executable, slots=[{}])
        opened.append(session)
        return session

    make.reopen = reopen  # type: ignore[attr-defined]
    yield make
    for session in opened:
        try:
            session.close(cancel_running=True)
        except Exception:
            pass


def fixed_clock(session) -> Callable[[], float]:
    created = datetime.fromisoformat(session.meta["created_at"]).timestamp()
    return lambda: created + 754  # 0:12:34 after the session began


def make_app(session, **options):
    from tui.app import MlsBenchApp

    options.setdefault("clock", fixed_clock(session))
    options.setdefault("animate", False)
    options.setdefault("watch", False)
    return MlsBenchApp(session, **options)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await pilot.pause(0.05)


def notifications(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def static_text(app, selector: str) -> str:
    """The plain text a Static shows."""
    from textual.widgets import Static

    widget = app.main.query_one(selector, Static)
    content = widget.content
    return str(getattr(content, "plain", content))
