"""The dependency direction: sessions/tasks never import Textual; the app never imports torch."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CHECK = """
import sys
import sessions.engine, sessions.leaderboard, sessions.runners, tasks, tui.cli
{extra}
bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden})
print(','.join(bad))
"""


def modules_after(code_extra: str, forbidden: set[str]) -> str:
    code = CHECK.format(extra=code_extra, forbidden=sorted(forbidden))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return out.stdout.strip()


def test_engine_cli_and_specs_import_neither_textual_nor_torch():
    assert modules_after("", {"textual", "torch", "torchvision", "drivers"}) == ""


def test_the_app_module_does_not_pull_in_torch():
    if not (ROOT / "tui" / "app.py").exists():
        pytest.skip("the app module is not there yet")
    assert modules_after("import tui.app", {"torch", "torchvision", "drivers"}) == ""


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports") or str(ROOT / ".venv" / "bin" / "lint-imports")
    proc = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
