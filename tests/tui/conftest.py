"""Fixtures for the app's tests: fake-task sessions with a fixed id and clock."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Callable

import pytest

from tests import pilot
from tests.conftest import FIXTURE_TASKS, ROOT, close_all  # noqa: F401

FIXED_ID = "20250101-120000-demo"


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
    close_all(opened)


def fixed_clock(session) -> Callable[[], float]:
    created = datetime.fromisoformat(session.meta["created_at"]).timestamp()
    return lambda: created + 754  # 0:12:34 after the session began


def make_app(session, **options):
    from tui.app import MlsBenchApp

    options.setdefault("clock", fixed_clock(session))
    options.setdefault("animate", False)
    options.setdefault("watch", False)
    return MlsBenchApp(session, **options)


def notifications(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def static_text(app, selector: str) -> str:
    """The plain text a Static of the main screen shows."""
    return pilot.static_text(app.main, selector)
