"""Results come from the metrics channel the engine gives the driver, never from what the
editable code prints; runs from before the channel still read their log."""

from __future__ import annotations

import json

import pytest

from sessions.metrics import file_rows
from tests.conftest import FAKE_FILE

FAKE_LINES = 'print("TRAIN_METRICS: epoch=9 test_acc=999.00")\nprint("FINAL_METRICS score=999.000")\n'


@pytest.mark.slow
def test_metrics_the_editable_code_prints_are_log_text_not_results(new_session):
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, f"SCORE = 80.0\n{FAKE_LINES}")
    session.test()
    record = session.state.tests[0]
    assert record.results() == {"test_acc_alpha": "80.00", "test_acc_beta": "81.00"}
    assert "999" not in record.feedback
    for label, setting in record.settings.items():
        assert setting.metrics_channel
        log = session.folder.log_path(record.key, label).read_text()
        channel = session.folder.metrics_path(record.key, label).read_text()
        assert "FINAL_METRICS score=999.000" in log and "999" not in channel
        assert max(row["test_acc"] for row in file_rows(session.folder.metrics_source(record.key, setting))) < 999


def submitted_session(new_session):
    """A closed session whose one test (SCORE 70) was submitted."""
    session = new_session()
    session.edit(FAKE_FILE, 14, 14, "SCORE = 70.0\n")
    session.test()
    session.submit(1)
    session.close()
    return session


@pytest.mark.slow
def test_a_run_from_before_the_channel_reads_its_log_on_resume_and_verify(new_session, catalog, tmp_path):
    """Old sessions: no metrics_channel in the journal, no .metrics files; their logs give the results."""
    from sessions.archive import export_session
    from sessions.verify import verify_archive
    from tests.trust.conftest import rewrite_journal

    session = submitted_session(new_session)
    expected = session.state.tests[0].results()

    def old_style(records):
        for record in records:
            record["data"].pop("metrics_channel", None)
        return records

    rewrite_journal(session.folder.journal, old_style)
    for channel in session.dir.rglob("*.metrics"):
        channel.unlink()
    again = new_session.reopen(session.dir)
    assert again.state.tests[0].results() == expected
    assert not any(s.metrics_channel for s in again.state.tests[0].settings.values())
    again.close()
    verdict = verify_archive(export_session(session.dir, again.task, tmp_path / "old.tgz"), catalog)
    assert verdict.ok, [c.detail for c in verdict.checks if not c.ok]


@pytest.mark.slow
def test_export_carries_the_metrics_files_and_verify_reparses_them(new_session, catalog, tmp_path):
    import tarfile

    from sessions.archive import export_session
    from sessions.verify import verify_archive
    from tests.trust.conftest import tampered

    session = submitted_session(new_session)
    archive = export_session(session.dir, session.task, tmp_path / "s.tgz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"tests/1/alpha.metrics", "tests/1/beta.metrics", "submit/gamma.metrics"} <= names
    assert verify_archive(archive, catalog).ok

    def forge(root):  # a better number written into the channel's file afterwards
        path = root / "tests/1/alpha.metrics"
        path.write_text(path.read_text() + "TRAIN_METRICS: epoch=6 test_acc=99.00\n")

    checks = {c.name: c for c in verify_archive(tampered(archive, tmp_path, forge), catalog).checks}
    assert not checks["results"].ok and "the metrics file implies" in checks["results"].detail
    assert json.loads((session.dir / "tests/1/results.json").read_text())
