"""Export a submitted session, verify it, and fail each kind of tampering with its reason."""

from __future__ import annotations

import json
import shutil

import pytest

from sessions.archive import ArchiveError, export_session, open_archive
from sessions.verify import CHECKS, verdict_lines, verify_archive
from tasks import Catalog
from tests.conftest import FAKE_FILE, FIXTURE_TASKS
from tests.trust.conftest import FAKE_PRINT, copy_session, rewrite_journal, tampered

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog():
    return Catalog([FIXTURE_TASKS])


def failed(verdict) -> dict[str, str]:
    return {c.name: c.detail for c in verdict.failures()}


def test_an_exported_session_verifies_and_carries_what_a_checker_needs(submitted, catalog):
    session_dir, archive = submitted
    verdict = verify_archive(archive, catalog)
    assert verdict.ok, verdict.reason()
    assert [c.name for c in verdict.checks] == [name for name, _ in CHECKS]
    assert verdict.final_results() == {"test_acc_alpha": "80.00", "test_acc_beta": "81.00", "test_acc_gamma": "82.00"}

    with open_archive(archive) as opened:
        manifest = opened.manifest
        names = set(manifest["files"])
        assert (opened.root / "journal.jsonl").read_bytes() == (session_dir / "journal.jsonl").read_bytes()
    assert manifest["task"]["id"] == "fake-task" and FAKE_FILE in manifest["task"]["scaffold_sha256"]
    assert manifest["session"]["person"] == "ada" and manifest["session"]["submitted_test"] == 2
    assert {f"tests/{n}/run/{FAKE_FILE}" for n in (1, 2, 3)} <= names
    assert {"tests/2/alpha.log", "tests/2/alpha.exit", "tests/2/results.json", "submit/gamma.log"} <= names
    assert [t["n"] for t in manifest["times"]["tests"]] == [1, 2, 3] and manifest["times"]["submit"]["ended_at"]
    assert manifest["results"]["final"] == verdict.final_results()
    assert manifest["packages"]["python"] and "mlsbench-tui" in manifest["packages"]
    assert manifest["flags"]["submit"][FAKE_FILE][0]["kind"] == "metrics-text"
    assert any(note.startswith("exported with mlsbench-tui") for note in verdict.notes)


def test_an_edited_journal_line_breaks_the_chain(submitted, catalog, tmp_path):
    def edit_result(root):
        journal = root / "journal.jsonl"
        journal.write_text(journal.read_text().replace('"test_acc_alpha": "80.00"', '"test_acc_alpha": "99.00"', 1))

    verdict = verify_archive(tampered(submitted[1], tmp_path, edit_result), catalog)
    assert not verdict.ok
    assert "hash chain broken" in failed(verdict)["hash chain"]
    assert failed(verdict)["results"].startswith("not checked: the journal's chain is broken")
    assert verdict_lines(verdict)[-1] == "NOT verified: 1 check(s) failed, 8 could not run"


def test_a_swapped_snapshot_is_not_the_file_that_was_tested(submitted, catalog, tmp_path):
    def swap(root):
        shutil.copyfile(root / "tests/1/run" / FAKE_FILE, root / "tests/2/run" / FAKE_FILE)

    problems = failed(verify_archive(tampered(submitted[1], tmp_path, swap), catalog))
    assert list(problems) == ["snapshots"]
    assert f"test #2's {FAKE_FILE} is not the file that was tested" in problems["snapshots"]


def test_an_edited_metrics_file_does_not_imply_the_recorded_result(submitted, catalog, tmp_path):
    session_dir = copy_session(submitted[0], tmp_path / "sessions")
    channel = session_dir / "tests/2/alpha.metrics"
    channel.write_text(channel.read_text().replace("test_acc=80.00", "test_acc=99.00"))
    archive = export_session(session_dir, Catalog([FIXTURE_TASKS]).get("fake-task"), tmp_path / "a.tar.gz")

    problems = failed(verify_archive(archive, catalog))
    assert list(problems) == ["results"]
    assert "test #2 alpha: the metrics file implies {'test_acc_alpha': '99.00'}" in problems["results"]
    assert "the journal records {'test_acc_alpha': '80.00'}" in problems["results"]


def test_a_torn_last_journal_line_is_left_out_of_the_archive(submitted, catalog, tmp_path):
    session_dir = copy_session(submitted[0], tmp_path / "sessions")
    with open(session_dir / "journal.jsonl", "ab") as fh:
        fh.write(b'{"seq": 99, "ty')  # the app was killed mid-write
    archive = export_session(session_dir, Catalog([FIXTURE_TASKS]).get("fake-task"), tmp_path / "a.tar.gz")
    verdict = verify_archive(archive, catalog)
    assert verdict.ok, verdict.reason()


def test_a_file_changed_after_export_differs_from_the_manifest(submitted, catalog, tmp_path):
    def append(root):
        with open(root / "submit/gamma.log", "a") as fh:
            fh.write("one more line\n")

    problems = failed(verify_archive(tampered(submitted[1], tmp_path, append, rehash=False), catalog))
    assert list(problems) == ["archive"]
    assert "submit/gamma.log differs from the hash its manifest lists" in problems["archive"]


def test_an_extra_test_in_a_forged_journal_exceeds_the_budget(submitted, catalog, tmp_path):
    def fourth_test(root):
        shutil.copytree(root / "tests/3", root / "tests/4")

        def add(records):
            third = [r for r in records if r["type"] != "submit_started" and r["data"].get("n") == 3
                     and r["data"].get("phase", "test") == "test"]
            extra = [dict(r, data=dict(r["data"], n=4)) for r in third]
            cut = next(i for i, r in enumerate(records) if r["type"] == "submit_started")
            return records[:cut] + extra + records[cut:]

        rewrite_journal(root / "journal.jsonl", add)

    problems = failed(verify_archive(tampered(submitted[1], tmp_path, fourth_test), catalog))
    assert "4 tests were started; the budget is 3" in problems["budget"]


def test_a_test_folder_the_journal_does_not_know_is_an_extra_test(submitted, catalog, tmp_path):
    problems = failed(verify_archive(
        tampered(submitted[1], tmp_path, lambda root: shutil.copytree(root / "tests/3", root / "tests/4")), catalog))
    assert list(problems) == ["budget"]
    assert "tests/4 is in the archive but the journal records 3 test(s)" in problems["budget"]


def test_an_edit_after_submit_and_an_edit_of_fixed_lines_fail(submitted, catalog, tmp_path):
    def late_edit(root):
        def add(records):
            edit = next(r for r in records if r["type"] == "edit")
            return records + [edit]

        rewrite_journal(root / "journal.jsonl", add)

    problems = failed(verify_archive(tampered(submitted[1], tmp_path / "late", late_edit), catalog))
    assert "journal line" in problems["submission"] and "(edit) comes after the submission" in problems["submission"]

    def fixed_edit(root):
        def change(records):
            edit = next(r for r in records if r["type"] == "edit")
            edit["data"].update(start=1, end=1)
            return records

        rewrite_journal(root / "journal.jsonl", change)

    problems = failed(verify_archive(tampered(submitted[1], tmp_path / "fixed", fixed_edit), catalog))
    assert "lines 1-1 are not inside an editable range" in problems["editable lines"]


def test_a_session_of_another_scaffold_version_is_refused(submitted, tmp_path):
    tasks = tmp_path / "tasks"
    shutil.copytree(FIXTURE_TASKS / "fake-task", tasks / "fake-task")
    driver = tasks / "fake-task" / "fake_driver.py"
    driver.write_text(driver.read_text().replace("def main():", "def main():  # v2"))

    problems = failed(verify_archive(submitted[1], Catalog([tasks])))
    assert "differs from this installation's scaffold" in problems["task"]
    assert problems["edits"].startswith("not checked")


def test_a_changed_task_toml_with_the_same_scaffold_is_a_note(submitted, tmp_path):
    tasks = tmp_path / "tasks"
    shutil.copytree(FIXTURE_TASKS / "fake-task", tasks / "fake-task")
    toml = tasks / "fake-task" / "task.toml"
    toml.write_text(toml.read_text().replace('title = "Fake task for engine tests"', 'title = "Renamed"'))

    verdict = verify_archive(submitted[1], Catalog([tasks]))
    assert verdict.ok and any("task.toml differs" in note for note in verdict.notes)


def test_not_an_archive_is_a_message(tmp_path, catalog):
    junk = tmp_path / "junk.tar.gz"
    junk.write_text("hello")
    verdict = verify_archive(junk, catalog)
    assert not verdict.ok and "is not a readable session archive" in verdict.checks[0].detail
    with pytest.raises(ArchiveError, match="does not start a session|cannot read the journal"):
        export_session(tmp_path, Catalog([FIXTURE_TASKS]).get("fake-task"), tmp_path / "out.tar.gz")


def test_cli_export_then_verify(submitted, tmp_path, capsys):
    from tui.cli import main

    session_dir, _ = submitted
    base = ["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(session_dir.parent.parent)]
    out = tmp_path / "mine.mlsbench.tar.gz"
    assert main([*base, "session", "export", session_dir.name[:15], "-o", str(out)]) == 0
    assert f"exported session {session_dir.name} to {out}" in capsys.readouterr().out

    assert main([*base, "session", "export", session_dir.name, "-o", str(tmp_path)]) == 0  # a folder
    assert (tmp_path / f"{session_dir.name}.mlsbench.tar.gz").is_file()
    assert main([*base, "session", "export", "nosuchsession", "-o", str(tmp_path)]) == 2
    assert "no session matching 'nosuchsession'" in capsys.readouterr().err

    assert main([*base, "verify", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("  PASS  ") == len(CHECKS) and "verified: every check holds" in text
    assert f"{FAKE_FILE}:15: text containing FINAL_METRICS" in text  # the flag, with its line

    bad = tampered(out, tmp_path, lambda root: (root / "tests/2/beta.metrics").unlink())
    assert main([*base, "verify", "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["results"]


def test_the_replay_of_a_session_shows_its_flags(submitted):
    from sessions.replay import load_replay

    result = load_replay(submitted[0])
    notes = [s for s in result.replay.steps if getattr(s, "title", "").startswith("integrity flags")]
    assert [s.title for s in notes] == ["integrity flags at edit", "integrity flags at submit"]
    assert all(FAKE_PRINT in s.text for s in notes)  # test 2, flagged at its edit, was submitted
    assert result.skipped == []


def test_malformed_forged_data_fails_a_check_with_a_message(submitted, catalog, tmp_path):
    def drop_settings(root):
        def change(records):
            del records[0]["data"]["settings"]
            return records

        rewrite_journal(root / "journal.jsonl", change)

    problems = failed(verify_archive(tampered(submitted[1], tmp_path, drop_settings), catalog))
    assert problems["results"] == "the archive's data is malformed (KeyError: 'settings')"


def test_a_test_recording_hashes_of_files_it_did_not_have_fails_the_edits_check(submitted, catalog, tmp_path):
    def extra_hash(root):
        def change(records):
            started = next(r for r in records if r["type"] == "test_started")
            started["data"]["files"]["fake/helper.py"] = "0" * 64
            return records

        rewrite_journal(root / "journal.jsonl", change)

    problems = failed(verify_archive(tampered(submitted[1], tmp_path, extra_hash), catalog))
    assert problems["edits"] == "test #1 records hashes of fake/helper.py that the edits before it do not produce"
