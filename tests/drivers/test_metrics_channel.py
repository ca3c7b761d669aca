"""The drivers' side of the metrics channel: the shared helper module takes the descriptor
named in MLSBENCH_METRICS_FD when imported (before any editable code runs), removes the
variable, and writes only metrics lines there; every line is still printed for the log."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.drivers.conftest import DRIVERS

PROBE = """
import os, sys
sys.path.insert(0, {folder!r})
import {module} as m
print("left in the environment:", os.environ.get("MLSBENCH_METRICS_FD"))
{calls}
"""


def run_with_channel(tmp_path, folder, module: str, calls: str) -> tuple[str, str]:
    channel = tmp_path / "run.metrics"
    fd = os.open(channel, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", PROBE.format(folder=str(folder), module=module, calls=calls)],
            env={**os.environ, "MLSBENCH_METRICS_FD": str(fd)}, pass_fds=(fd,),
            capture_output=True, text=True, timeout=120,
        )
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, channel.read_text()


def test_vision_metrics_lines_go_to_the_channel_and_the_variable_is_gone(tmp_path):
    calls = "m.print_metrics(1, train_loss=0.5, test_acc=12.5)\nt = m.BestTracker(); t.update(1, 12.5); t.print_final()\n" \
            'print("FINAL_METRICS best_test_acc=99.00 best_epoch=1")  # as editable code could'
    out, channel = run_with_channel(tmp_path, DRIVERS / "pytorch_vision", "vision_common", calls)
    assert "left in the environment: None" in out
    assert channel == ("TRAIN_METRICS: epoch=1 train_loss=0.5000 test_acc=12.50\n"
                       "FINAL_METRICS best_test_acc=12.50 best_epoch=1\n")
    assert "FINAL_METRICS best_test_acc=12.50 best_epoch=1" in out and "best_test_acc=99.00" in out


def test_bilevel_emit_sends_only_metrics_lines_to_the_channel(tmp_path):
    calls = 'm.emit("toy: plain text")\nm.emit("TRAIN_PLAN unit=run total=2")\nm.emit("FINAL_METRICS score=1.0")'
    out, channel = run_with_channel(tmp_path, DRIVERS / "bilevel", "bilevel_common", calls)
    assert "left in the environment: None" in out and "toy: plain text" in out
    assert channel == "TRAIN_PLAN unit=run total=2\nFINAL_METRICS score=1.0\n"
