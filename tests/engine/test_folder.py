"""The session folder's layout, owned by one class that the engine, the runners and the archive share."""

from __future__ import annotations

import pytest

from sessions.errors import Refused
from sessions.events import RunKey
from sessions.folder import SessionFolder


def test_a_test_and_the_submission_keep_their_logs_apart_and_run_in_the_tests_snapshot(tmp_path):
    folder = SessionFolder(tmp_path)
    test, submit = RunKey("test", 2), RunKey("submit", 2)
    assert folder.log_path(test, "alpha") == tmp_path / "tests" / "2" / "alpha.log"
    assert folder.exit_path(submit, "alpha") == tmp_path / "submit" / "alpha.exit"
    assert folder.results_path(submit) == tmp_path / "submit" / "results.json"
    assert folder.run_dir(2) == folder.test_dir(2) / "run"
    assert folder.relative(folder.log_dir(test)) == "tests/2" and folder.relative(folder.log_dir(submit)) == "submit"


def test_the_layout_of_a_new_session_is_the_one_the_folder_names(new_session):
    session = new_session()
    folder = session.folder
    assert folder.journal.is_file() and folder.workspace == session.workspace
    for path in session.editable_paths:
        assert folder.scaffold_file(path).read_text() == folder.workspace_file(path).read_text()
    session.test()
    key = session.state.tests[0].key
    assert folder.log_path(key, "alpha").is_file() and folder.results_path(key).is_file()
    assert not folder.scratch_dir(1).exists() and folder.run_dir(1).is_dir()


def test_a_kept_text_is_named_by_its_file_and_keeps_every_character(tmp_path):
    kept = SessionFolder(tmp_path).keep_rejected("fake/fake_driver.py", "x = 1\n\tü\n")
    assert kept.parent == tmp_path / "rejected-edits" and kept.name.startswith("fake_driver.py.")
    assert kept.read_text(encoding="utf-8") == "x = 1\n\tü\n"


def test_the_folder_lock_admits_one_writer(tmp_path):
    import os

    fd = SessionFolder(tmp_path).lock()
    try:
        with pytest.raises(Refused, match="open in another mlsbench-tui process"):
            SessionFolder(tmp_path).lock()
    finally:
        os.close(fd)
    os.close(SessionFolder(tmp_path).lock())  # free again once released
    with pytest.raises(Refused, match="does not exist"):
        SessionFolder(tmp_path / "gone").lock()
