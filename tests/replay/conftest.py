"""Shared by the importer tests: the fake task's scaffold, and the steps that are not text."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessions.replay import TextStep
from sessions.state import FileState
from tests.conftest import FAKE_FILE

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def scaffold(fake_task) -> FileState:
    f = fake_task.file(FAKE_FILE)
    return FileState.from_text(f.source.read_text(encoding="utf-8"), f.editable)


def no_text(replay):
    return [s for s in replay.steps if not isinstance(s, TextStep)]
