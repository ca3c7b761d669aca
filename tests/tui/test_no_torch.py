"""The app process never imports torch: checked in a fresh interpreter after it ran a test."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_the_app_process_never_imports_torch():
    probe = ROOT / "tests" / "tui" / "no_torch_probe.py"
    out = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["finished"] and report["lines"] > 0 and report["textual"]
    assert report["heavy"] == []


def test_the_tui_package_itself_does_not_import_textual():
    code = "import sys, tui, tui.guard, tui.model, tui.bridge; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
