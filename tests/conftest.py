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


def pytest_collection_modifyitems(items):
    """A test on the real Slurm cluster (tests/slurm/conftest.py starts one) is marked
    `slurm`, and `slow`: it runs whole tests as batch jobs."""
    for item in items:
        if "slurm_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slurm)
            item.add_marker(pytest.mark.slow)


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
def session_factory(fake_task, tmp_path, monkeypatch):
    """The one factory of test sessions: `session_factory(profile="demo", task=None, **options)`
    creates one (of the fake task unless `task` is given) under tmp_path, and
    `session_factory.reopen(directory)` opens one again; all are closed at teardown,
    cancelling what still runs."""
    from sessions.engine import Session

    monkeypatch.setenv("FAKE_EPOCHS", os.environ.get("FAKE_EPOCHS", "5"))
    opened = []

    def make(profile: str = "demo", task=None, **options):
        options.setdefault("person", "tester")
        session = Session.create(
            task or fake_task, sessions_dir=tmp_path / "sessions", profile=profile,
            data_root=tmp_path / "data", python=sys.executable, slots=[{}], **options,
        )
        opened.append(session)
        return session

    def reopen(directory: Path, task=None):
        session = Session.open(directory, task or fake_task, python=sys.executable, slots=[{}])
        opened.append(session)
        return session

    make.reopen = reopen  # type: ignore[attr-defined]
    yield make
    close_all(opened)


@pytest.fixture
def new_session(session_factory):
    """The same factory, under the name the engine and replay tests use."""
    return session_factory


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


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    """`cli(*args)` runs `mlsbench-tui` on the fake task's folder, sessions under tmp_path, one
    slot and 3 epochs; returns (exit status, stdout, stderr). Test files may define their own."""
    from tui.cli import main

    monkeypatch.setenv("FAKE_EPOCHS", "3")
    monkeypatch.setenv("MLSBENCH_SLOTS", "1")
    base = ["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(tmp_path / "sessions"),
            "--data-root", str(tmp_path / "data")]

    def run(*args):
        code = main([*base, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
