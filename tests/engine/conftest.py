"""The command line as a script drives it: `cli(*args)` runs `mlsbench-tui` on the fixture tasks."""

import pytest

from tests.conftest import FIXTURE_TASKS
from tui.cli import main


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    """`cli(*args)` -> (exit status, stdout, stderr), sessions under tmp_path/sessions."""
    monkeypatch.setenv("FAKE_EPOCHS", "4")
    base = ["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(tmp_path / "sessions")]

    def run(*args):
        code = main([*base, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
