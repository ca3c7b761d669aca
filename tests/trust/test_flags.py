"""Integrity flags: the static check of editable code, and its journaling at save."""

from __future__ import annotations

from sessions.flags import journaled_flags, scan_source
from tasks.spec import LineRange
from tests.conftest import FAKE_FILE
from tests.trust.conftest import CLEAN_REGION, FAKE_PRINT

SUSPECT = '''import sys
def region():
    # FINAL_METRICS in a comment is fine
    print("FINAL_METRICS score=99")
    print(f"TRAIN_METRICS: epoch={1} test_acc=99")
    sys.stdout.write("x")
    import os, subprocess
    from sys import stderr
    home = os.environ["HOME"]
    open("out.txt", "w")
    Path("q").write_text("x")
    __import__("ctypes")
    print("TRAIN_PLAN unit=epoch total=1")
'''


def kinds(flags):
    return [(f.line, f.kind) for f in flags]


def test_each_kind_of_suspect_code_is_flagged_with_its_line():
    flags = scan_source("x.py", SUSPECT, [LineRange(2, 13)])
    assert kinds(flags) == [
        (4, "metrics-text"), (5, "metrics-text"), (6, "std-stream"), (7, "import"), (7, "import"),
        (8, "std-stream"), (9, "environment"), (10, "file-access"), (11, "file-access"),
        (12, "import"), (13, "metrics-text"),
    ]
    described = [f.describe() for f in flags]
    assert 'x.py:4: text containing FINAL_METRICS (the drivers\' metrics protocol): print("FINAL_METRICS score=99")' in described
    assert any("imports subprocess" in d for d in described)


def test_only_editable_lines_are_scanned_and_plain_code_is_not_flagged():
    assert scan_source("x.py", SUSPECT, [LineRange(2, 3)]) == []  # line 1 imports sys: fixed
    clean = "import math\nx = math.sqrt(2)\nprint('epoch done', x)\nmetrics = {'acc': 1}\n"
    assert scan_source("x.py", clean, [LineRange(1, 4)]) == []
    assert scan_source("x.py", "def broken(:\n", [LineRange(1, 1)]) == []  # the compile check reports it


def test_an_edit_that_prints_fake_metrics_is_flagged_journaled_and_cleared(new_session):
    session = new_session()
    message = session.edit(FAKE_FILE, 14, 14, f"SCORE = 80.0\n{FAKE_PRINT}\n")
    assert f"{FAKE_FILE}:15: text containing FINAL_METRICS" in message and FAKE_PRINT in message
    flags = journaled_flags(session.journal.entries)[FAKE_FILE]
    assert [(f.line, f.kind, f.code) for f in flags] == [(15, "metrics-text", FAKE_PRINT)]

    count = len(session.journal.entries)
    session.edit(FAKE_FILE, 14, 14, "SCORE = 81.0\n")  # same flags: nothing new journaled
    assert len(session.journal.entries) == count + 1

    session.undo(2)
    message = session.edit(FAKE_FILE, 14, 16, CLEAN_REGION)
    assert "Integrity flags" not in message
    assert journaled_flags(session.journal.entries)[FAKE_FILE] == []  # cleared, and that is recorded
