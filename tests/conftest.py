"""Fixtures shared by the whole suite: the fake task and sessions on it."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
from pathlib import Path

import pytest

from tasks import Catalog

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_TASKS = ROOT / "tests" / "fixtures" / "tasks"
SHARED = ROOT.parent / "shared"
FAKE_FILE = "fake/fake_driver.py"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests with asyncio (no pytest-asyncio needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
        return True
    return None


@pytest.fixture
def catalog() -> Catalog:
    return Catalog([FIXTURE_TASKS])


@pytest.fixture
def fake_task(catalog):
    return catalog.get("fake-task")


@pytest.fixture
def new_session(fake_task, tmp_path, monkeypatch):
    """Factory for sessions of the fake task; all are closed at teardown."""
    from sessions.engine import Session

    monkeypatch.setenv("FAKE_EPOCHS", os.environ.get("FAKE_EPOCHS", "5"))
    opened = []

    def make(**options):
        session = Session.create(
            fake_task, sessions_dir=tmp_path / "sessions", profile="demo",
            data_root=tmp_path / "data", python=sys.executable, slots=[{}], **options,
        )
        opened.append(session)
        return session

    yield make
    close_all(opened)


def close_all(sessions) -> None:
    """Teardown: close test sessions, cancelling what still runs (a session a test
    already closed, or broke on purpose, is passed over)."""
    for session in sessions:
        try:
            session.close(cancel_running=True)
        except Exception:
            pass


@pytest.fixture(autouse=True)
def isolated_results_store(tmp_path_factory, monkeypatch):
    """Boards read the re-scored results store: never the user's own one in a test."""
    monkeypatch.setenv("MLSBENCH_RESULTS", str(tmp_path_factory.mktemp("results")))
    monkeypatch.delenv("MLSBENCH_AGENTS", raising=False)
