"""End to end in a real terminal: tmux runs `mlsbench-tui` on the fake task; keys go in with
send-keys and capture-pane shows what a person would see."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import FIXTURE_TASKS, ROOT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, name: str):
        self.socket = name  # a private server: nothing else of the person's tmux is touched
        self.target = f"{name}:0"

    def run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        if check and out.returncode != 0:
            raise RuntimeError(out.stderr)
        return out.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target, check=False)

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts} not on screen after {timeout}s:\n{screen}")
            time.sleep(0.1)


def app_command(sessions_dir) -> str:
    """The lead's CLI, as a person types it."""
    return " ".join(
        shlex.quote(str(a))
        for a in (sys.executable, "-m", "tui.cli", "--tasks-dir", FIXTURE_TASKS, "--task", "fake-task",
                  "--profile", "demo", "--sessions-dir", sessions_dir)
    )


def test_budget_counter_and_streaming_metrics_in_a_real_terminal(tmp_path):
    tmux = Tmux(f"mlsbench-e2e-{os.getpid()}")
    # COLUMNS/LINES (pytest sets them) would override the pane's real size.
    # 600 noise lines per epoch: by epoch 4 the log panel is past its 2000 lines and must
    # still show the newest ones.
    env = "env -u COLUMNS -u LINES FAKE_EPOCHS=4 FAKE_SLEEP=0.5 FAKE_SPAM=600 MLSBENCH_SLOTS=1 TERM=xterm-256color"
    command = f"cd {shlex.quote(str(ROOT))} && {env} {app_command(tmp_path / 'sessions')}; echo APP-EXITED $?; sleep 30"
    tmux.run("new-session", "-d", "-s", tmux.socket, "-x", "120", "-y", "36", command)
    try:
        tmux.wait_for("Tests ●●● 3 of 3 left", "fake-task · Fake task for engine tests", timeout=30)
        # The editor keys as a code editor does (issue 16 items 1, 2): the cursor starts on line 14.
        tmux.keys("Down", "Down", "C-e")
        # Cursor keys are bindings, run after the key has bubbled up; Enter and text go straight
        # to the editor and could overtake them when sent in one burst (no person types that fast).
        time.sleep(0.5)
        tmux.keys("Enter")  # a new line after "NOISE = 0.0" (line 16)
        tmux.keys("-l", "if NOISE:")
        tmux.keys("Enter")
        tmux.keys("-l", "pass")
        tmux.wait_for("18┃     pass")  # one level deeper after the colon
        tmux.keys("Enter")
        tmux.keys("-l", "EXTRA = 1")
        tmux.wait_for("19┃ EXTRA = 1")  # one level less after pass
        tmux.keys("C-a", "Tab")
        tmux.wait_for("19┃     EXTRA = 1")  # Tab indents; the focus stays in the editor
        tmux.keys("BTab")
        tmux.wait_for("19┃ EXTRA = 1")  # shift+Tab dedents
        tmux.keys("C-s")
        tmux.wait_for("Saved (journaled)")
        tmux.keys("F5")
        tmux.wait_for("Run test #1?", "spends 1 of your 3 remaining")
        tmux.keys("Enter")
        screen = tmux.wait_for("Tests ●●○ 2 of 3 left", "TRAIN_METRICS: epoch=1", timeout=30)
        assert "alpha" in screen
        tmux.wait_for("beta ○ queued")  # one slot: beta's tab says it waits while alpha runs (issue 16 item 5)
        tmux.wait_for("TRAIN_METRICS: epoch=4")  # lines keep arriving while it runs
        tmux.wait_for("beta ● done", timeout=30)
        tmux.keys("C-q")
        screen = tmux.wait_for("APP-EXITED", timeout=20)
        assert "APP-EXITED 0" in screen
    finally:
        tmux.run("kill-server", check=False)
        kill_jobs(tmp_path / "sessions")


def kill_jobs(sessions) -> None:
    """Training processes the app may have left (their process groups, from the journals)."""
    import json
    import signal

    for journal in sessions.glob("*/*/journal.jsonl"):
        for line in journal.read_text().splitlines():
            entry = json.loads(line)
            if entry["type"] == "setting_started":
                try:
                    os.killpg(int(entry["data"]["job_id"]), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass
