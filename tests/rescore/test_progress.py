"""Progress of a rescore: one line rewritten in place on a terminal, with the ETA."""

from __future__ import annotations

import io

from sessions.events import Progress, RunKey, SettingStatus
from tui.rescore_cli import ProgressPrinter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_status_line_is_rewritten_with_setting_progress_and_eta():
    out = Terminal()
    printer = ProgressPrinter(out, total=3)
    key = RunKey("test", 1)
    printer.begin(1, "baseline:dwa", cached=False)
    printer.durations.append(100.0)  # one candidate already took 100 s
    printer(Progress(key, "resnet20", 2, 10, "epoch", 40.0))
    printer(Progress(key, "resnet20", 3, 10, "epoch", 30.0))
    text = out.getvalue()
    first, rest = text.split("\n", 1)
    assert first == "[1/3] baseline:dwa: running every setting (visible, then hidden)"
    assert rest.count("\r") == 2 and "\n" not in rest  # one line, rewritten
    last = text.rsplit("\r", 1)[1]
    assert last.startswith("[1/3] baseline:dwa · resnet20 epoch 3/10 · ETA 30s this candidate, ~3m50s all")
    printer(SettingStatus(key, "resnet20", "done"))
    assert out.getvalue().endswith("[1/3] baseline:dwa resnet20 (test #1): done\n")  # the status line was cleared first
    printer.close()
