"""Working time and notes travel with an export: verify checks them, replay shows the notes."""

from __future__ import annotations

import json

import pytest

from sessions.archive import open_archive
from sessions.replay import load_replay
from sessions.replay.model import TextStep
from sessions.verify import verify_archive
from tasks import Catalog
from tests.conftest import FAKE_FILE, FIXTURE_TASKS
from tests.trust.conftest import NOTE_TEXT, rewrite_journal, tampered

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog():
    return Catalog([FIXTURE_TASKS])


def test_the_archive_carries_working_time_and_notes_and_verify_accepts_them(submitted, catalog):
    verdict = verify_archive(submitted[1], catalog)
    assert verdict.ok, verdict.reason()
    assert verdict.state.work.seconds() == 600
    with open_archive(submitted[1]) as opened:
        manifest = opened.manifest
    assert manifest["work_time"] == {"total_s": 600.0, "tests_s": {"1": 120.0, "2": 480.0, "3": 500.0},
                                     "pauses": 1, "time_limit_s": None}
    assert [(n["step"], n["text"]) for n in manifest["person_notes"]] == [
        ("after test #1", NOTE_TEXT), ("after submitting test #2", "submitted #2")]


def test_notes_round_trip_through_export_and_replay_as_the_persons_thinking(submitted):
    result = load_replay(submitted[1])
    assert result.format == "archive" and result.replay.path == str(submitted[1])
    thoughts = [s for s in result.replay.steps if isinstance(s, TextStep) and s.role == "thinking"]
    assert [(s.title, s.text) for s in thoughts] == [("note, after test #1", NOTE_TEXT),
                                                     ("note, after submitting test #2", "submitted #2")]
    kinds = [type(s).__name__ for s in result.replay.steps]
    assert kinds.index("TextStep") == kinds.index("TestStep") + 1  # right after test #1, where it was written
    clock = [s.text for s in result.replay.steps if isinstance(s, TextStep) and s.title == "working clock"]
    assert clock == ["paused after 0:03:00 of work", "resumed after 0:03:00 of work"]
    assert not any("unknown type" in why for why in result.skipped)


def test_a_manifest_that_claims_other_working_time_fails(submitted, catalog, tmp_path):
    def inflate(root):
        manifest = json.loads((root / "manifest.json").read_text())
        manifest["work_time"]["total_s"] = 60.0
        (root / "manifest.json").write_text(json.dumps(manifest))

    verdict = verify_archive(tampered(submitted[1], tmp_path, inflate), catalog)
    failures = {c.name: c.detail for c in verdict.failures()}
    assert "the manifest's working time" in failures["archive"]


def test_an_edit_forged_into_a_pause_fails_the_working_time_check(submitted, catalog, tmp_path):
    def edit_while_paused(root):
        def move_resume(records):
            resume = next(i for i, r in enumerate(records) if r["type"] == "clock_resumed")
            edit = next(i for i, r in enumerate(records) if i > resume and r["type"] == "edit")
            records.insert(edit, records.pop(resume))  # the edit now falls inside the pause
            return records

        rewrite_journal(root / "journal.jsonl", move_resume)

    verdict = verify_archive(tampered(submitted[1], tmp_path, edit_while_paused), catalog)
    failures = {c.name: c.detail for c in verdict.failures()}
    assert "(edit) was recorded while the clock was paused" in failures["working time"], failures
    assert FAKE_FILE  # the edit is of the task's file, so the other checks still replay it
