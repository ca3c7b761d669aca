"""Fixtures for the app's tests: fake-task sessions with a fixed id and clock."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import pytest

from tests import pilot
from tests.conftest import FIXTURE_TASKS, ROOT  # noqa: F401

FIXED_ID = "20250101-120000-demo"


@pytest.fixture(autouse=True)
def fixed_ids(monkeypatch):
    """Sessions created in a test get the id FIXED_ID (then -2, -3, ...)."""
    import sessions.engine

    counter = iter(range(1, 1000))

    def new_id() -> str:
        n = next(counter)
        return FIXED_ID if n == 1 else f"{FIXED_ID}-{n}"

    monkeypatch.setattr(sessions.engine, "new_session_id", new_id)


@pytest.fixture(autouse=True)
def fast_driver(monkeypatch):
    """The fake driver: 3 epochs, no sleep, no failure, no spam (a test sets what it needs)."""
    monkeypatch.setenv("FAKE_EPOCHS", "3")
    monkeypatch.setenv("FAKE_SLEEP", "0")
    monkeypatch.delenv("FAKE_SLOW_LABEL", raising=False)
    monkeypatch.delenv("FAKE_SPAM", raising=False)
    monkeypatch.delenv("FAKE_CHECK_FAIL", raising=False)


def fixed_clock(session) -> Callable[[], float]:
    created = datetime.fromisoformat(session.meta["created_at"]).timestamp()
    return lambda: created + 754  # 0:12:34 after the session began


def make_app(session, **options):
    """The app on `session` (fixed clock, no animation, no watcher unless asked); the
    messages of its `run_test` are captured (`notifications(app)`)."""
    from tui.app import MlsBenchApp

    options.setdefault("clock", fixed_clock(session))
    options.setdefault("animate", False)
    options.setdefault("watch", False)
    return pilot.capture_messages(MlsBenchApp(session, **options))


def notifications(app) -> list[str]:
    """"title: message" of every notice the app has shown."""
    return app.captured.notices()


def static_text(app, selector: str) -> str:
    """The plain text a Static of the main screen shows."""
    return pilot.static_text(app.main, selector)


async def set_score(pilot, app, value: str) -> None:
    """Type `value` over the fake driver's SCORE in the editor (unsaved)."""
    editor = app.main.active_editor()
    row = next(i for i in range(editor.document.line_count) if editor.document[i].startswith("SCORE ="))
    editor.focus()
    editor.selection = ((row, 8), (row, len(editor.document[row])))
    await pilot.press(*value)
