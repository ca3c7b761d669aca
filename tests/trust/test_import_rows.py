"""Leaderboard rows from a folder of archives: verified ones ranked, the rest listed with a reason."""

from __future__ import annotations

import json
import shutil

import pytest

from sessions.archive_rows import archive_rows
from tasks import Catalog
from tests.conftest import FAKE_FILE, FIXTURE_TASKS
from tests.trust.conftest import tampered

pytestmark = pytest.mark.slow


def test_import_builds_a_row_per_verified_archive_and_rejects_the_tampered(submitted, tmp_path):
    _, archive = submitted
    folder = tmp_path / "collected"
    (folder / "round-2").mkdir(parents=True)
    shutil.copyfile(archive, folder / "ada.mlsbench.tar.gz")
    shutil.copyfile(archive, folder / "round-2" / "ada-again.tgz")  # the same session twice
    bad = tampered(archive, tmp_path, lambda root: shutil.copyfile(
        root / "tests/1/run" / FAKE_FILE, root / "tests/2/run" / FAKE_FILE))
    shutil.copyfile(bad, folder / "round-2" / "eve.mlsbench.tar.gz")
    (folder / "notes.txt").write_text("not an archive")
    catalog = Catalog([FIXTURE_TASKS])
    task = catalog.get("fake-task")

    imported = archive_rows(task, [folder], "demo", catalog)
    [row] = imported.rows
    assert (row.entry, row.kind) == ("person:ada", "person")
    assert row.values == {"test_acc_alpha": 80.0, "test_acc_beta": 81.0, "test_acc_gamma": 82.0}
    assert "submitted test #2" in row.detail and "seed 42" in row.detail and "1 integrity flag(s)" in row.detail
    assert "worked 0:10:00" in row.detail  # 600 s of the session clock, its pause not counted
    [(path, reason)] = imported.rejected
    assert path.name == "eve.mlsbench.tar.gz" and "snapshots: test #2's" in reason
    assert [p.name for p, _ in imported.skipped] == ["ada-again.tgz"]

    other = archive_rows(task, [folder], "quick", catalog)
    assert other.rows == [] and "profile demo" in other.skipped[0][1]


def test_leaderboard_import_option(submitted, tmp_path, capsys):
    from tui.cli import main

    folder = tmp_path / "collected"
    folder.mkdir()
    shutil.copyfile(submitted[1], folder / "ada.mlsbench.tar.gz")
    (folder / "junk.tar.gz").write_text("junk")
    base = ["--tasks-dir", str(FIXTURE_TASKS), "--sessions-dir", str(tmp_path / "none")]

    assert main([*base, "leaderboard", "--task", "fake-task", "--profile", "demo", "--import", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "person:ada" in out and "80.00" in out
    assert f"rejected {folder / 'junk.tar.gz'}: archive:" in out and "not a readable session archive" in out

    main([*base, "leaderboard", "--task", "fake-task", "--profile", "demo", "--import", str(folder), "--json"])
    board = json.loads(capsys.readouterr().out)
    assert [r["entry"] for r in board["rows"] if r["kind"] == "person"] == ["person:ada"]
    assert board["rejected"][0]["archive"].endswith("junk.tar.gz")
