"""Whatever a file holds, importing it never raises: damaged copies of every fixture."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.journal import Journal
from sessions.replay import ReplayError, format_replay, load_replay
from sessions.state import sha256_text
from tasks import Catalog
from tests.conftest import FIXTURE_TASKS

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = [
    FIXTURES / "fake_clean.json",
    FIXTURES / "fake_messy.json",
    FIXTURES / "fake_transcript.txt",
    FIXTURES / "fake_transcript_messy.txt",
    FIXTURES / "shapes" / "auto_submit.json",
    FIXTURES / "shapes" / "multi_seed.json",
    FIXTURES / "shapes" / "refusals.txt",
    FIXTURES / "shapes" / "late_result.json",
]
CATALOG = Catalog([FIXTURE_TASKS])


def journal_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.jsonl")
        text = "a\nb\nc\n"
        journal.append("session_created", task_id="fake-task", title="t", profile="demo", seed=1, data_root="/d",
                       test_budget=3, person="p", settings={"alpha": {"command": "x", "hidden": False}})
        journal.append("files_initialised", files={"m.py": {"text": text, "sha256": sha256_text(text), "ranges": [[2, 2]]}})
        journal.append("edit", file="m.py", start=2, end=2, content="B\nB2\n", sha256_after=sha256_text("a\nB\nB2\nc\n"))
        journal.append("test_started", n=1, settings=["alpha"], files={"m.py": sha256_text("a\nB\nB2\nc\n")})
        journal.append("setting_started", phase="test", n=1, label="alpha", job_id="1", runner="local")
        journal.append("setting_finished", phase="test", n=1, label="alpha", status="done", exit_code=0,
                       results={"test_acc_alpha": "50.00"}, detail="")
        journal.append("run_finished", phase="test", n=1, feedback="[Test #1] (2 tests remaining)")
        journal.append("undo", count=1)
        journal.append("submit_started", n=1, settings=["gamma"])
        journal.close()
        return (Path(tmp) / "journal.jsonl").read_bytes()


SOURCE_BYTES = [p.read_bytes() for p in SOURCES] + [journal_bytes()]
NAMES = [p.name for p in SOURCES] + ["journal.jsonl"]


@st.composite
def damaged(draw):
    which = draw(st.integers(0, len(SOURCE_BYTES) - 1))
    blob = bytearray(SOURCE_BYTES[which])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "delete", "insert", "duplicate", "flip"]))
        if not blob:
            break
        i = draw(st.integers(0, len(blob) - 1))
        j = min(len(blob), i + draw(st.integers(1, 400)))
        if kind == "cut":
            del blob[i:]
        elif kind == "delete":
            del blob[i:j]
        elif kind == "insert":
            blob[i:i] = draw(st.binary(min_size=1, max_size=20))
        elif kind == "duplicate":
            blob[j:j] = blob[i:j]
        else:
            blob[i] ^= draw(st.integers(1, 255))
    return NAMES[which], bytes(blob)


@settings(max_examples=int(__import__("os").environ.get("REPLAY_FUZZ", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_files_import_and_print(case):
    name, blob = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(blob)
        try:
            result = load_replay(path, CATALOG)
        except ReplayError as refused:  # damage that leaves JSON with no conversation in it
            assert "\n" not in str(refused) and "is not an agent conversation" in str(refused)
            return
        lines = list(format_replay(result.replay))
        assert lines and all(isinstance(line, str) for line in lines)
        for reason in result.skipped:
            assert isinstance(reason, str) and reason


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["x.json", "x.txt", "journal.jsonl"]))
def test_random_bytes_import(blob, name):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(blob)
        try:
            result = load_replay(path, CATALOG)
        except ReplayError as refused:  # JSON that is no conversation: refused in one line
            assert "\n" not in str(refused) and "is not an agent conversation" in str(refused)
            return
        list(format_replay(result.replay))
