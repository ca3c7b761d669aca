"""Another editor's save: one policy (record it, or put the file back and keep the text) for the app and `session sync`."""

from __future__ import annotations

import pytest

from sessions.disk_sync import ACCEPTED, REFUSED, UNCHANGED, UNREADABLE
from sessions.errors import Refused
from tests.conftest import FAKE_FILE


def write(session, text: str) -> None:
    session.folder.workspace_file(FAKE_FILE).write_text(text, encoding="utf-8")


def test_a_change_inside_the_editable_lines_is_recorded(new_session):
    session = new_session()
    write(session, session.disk_text(FAKE_FILE).replace("SCORE = 50.0", "SCORE = 55.0"))
    outcome = session.reconcile_disk(FAKE_FILE)
    assert outcome.outcome == ACCEPTED and outcome.changed and "Replaced lines" in outcome.message
    assert "SCORE = 55.0" in session.file_state(FAKE_FILE).text and outcome.kept is None


def test_a_change_to_a_fixed_line_is_put_back_and_its_text_kept(new_session):
    session = new_session()
    before = session.disk_text(FAKE_FILE)
    write(session, "# a new first line\n" + before)
    outcome = session.reconcile_disk(FAKE_FILE)
    assert outcome.outcome == REFUSED and "is fixed" in outcome.refusal and str(outcome.kept) in outcome.refusal
    assert session.disk_text(FAKE_FILE) == before and session.state.edits == 0
    assert outcome.kept.read_text() == "# a new first line\n" + before


def test_a_views_unsaved_text_is_kept_when_an_accepted_change_replaces_it(new_session):
    session = new_session()
    write(session, session.disk_text(FAKE_FILE).replace("SCORE = 50.0", "SCORE = 51.0"))
    outcome = session.reconcile_disk(FAKE_FILE, unsaved="typed in the app\n")
    assert outcome.outcome == ACCEPTED and outcome.kept.read_text() == "typed in the app\n"


def test_an_unreadable_file_is_restored(new_session):
    session = new_session()
    session.folder.workspace_file(FAKE_FILE).write_bytes(b"\xff\xfe not text")
    outcome = session.reconcile_disk(FAKE_FILE)
    assert outcome.outcome == UNREADABLE and "restored from the session" in outcome.refusal
    assert session.disk_text(FAKE_FILE) == session.file_state(FAKE_FILE).text


def test_the_same_text_is_no_change(new_session):
    outcome = new_session().reconcile_disk(FAKE_FILE, unsaved="not kept")
    assert outcome.outcome == UNCHANGED and not outcome.changed and outcome.kept is None


def test_sync_applies_the_same_policy(new_session):
    session = new_session()
    before = session.disk_text(FAKE_FILE)
    write(session, before.replace("import", "import  ", 1))  # a fixed line
    with pytest.raises(Refused, match="put back as the session has it") as info:
        session.sync_from_disk()
    assert session.disk_text(FAKE_FILE) == before
    kept = list(session.folder.rejected_edits.iterdir())
    assert len(kept) == 1 and str(kept[0]) in str(info.value)
