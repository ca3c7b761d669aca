"""One submitted session of the fake task, exported once; tamper helpers for its archive."""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Callable

import pytest

from sessions.archive import MANIFEST, export_session, file_sha256
from sessions.journal import Journal
from sessions.notes import add_note
from sessions.worktime import WorkClock
from tests.conftest import FAKE_FILE, close_all

CLEAN_REGION = "SCORE = 70.0\nCRASH_AT = None\nNOISE = 0.0\n"
FAKE_PRINT = 'print("FINAL_METRICS score=999.000")'
NOTE_TEXT = "# test 1\nscore 70: *try* a higher one"


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """A session with three tests (test 2's region prints a fake metrics line), test 2
    submitted, worked on for 600 s of the session clock (a 3000 s pause not counted),
    with a note after test 1 and one after the submission; and its archive."""
    from sessions.engine import Session
    from tasks import Catalog
    from tests.conftest import FIXTURE_TASKS

    task = Catalog([FIXTURE_TASKS]).get("fake-task")
    base = tmp_path_factory.mktemp("trust")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAKE_EPOCHS", "3")
        session = Session.create(task, sessions_dir=base / "sessions", profile="demo",
                                 data_root=base / "data", python=sys.executable, slots=[{}], person="ada")
        now = [1_700_000_000.0]
        clock = WorkClock(session, lambda: now[0])
        try:
            clock.start()
            session.edit(FAKE_FILE, 14, 16, CLEAN_REGION)
            now[0] += 120
            clock.tick()  # the app journals the clock's reading as a test starts
            session.test()
            add_note(session, NOTE_TEXT)
            now[0] += 60
            clock.pause()
            now[0] += 3000  # not counted
            clock.resume()
            session.edit(FAKE_FILE, 14, 14, f"SCORE = 80.0\n{FAKE_PRINT}\n")
            now[0] += 300
            clock.tick()
            session.test()
            session.undo()
            now[0] += 20
            clock.tick()
            session.test()
            now[0] += 100
            session.submit(2)
            clock.tick()  # the clock stops at the submission, as the app's tick does
            add_note(session, "submitted #2")
        finally:
            close_all([session])
    archive = export_session(session.dir, task, base / "ada.mlsbench.tar.gz")
    return session.dir, archive


def extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into)
    return into


def pack(root: Path, out: Path, rehash: bool = True) -> Path:
    """Pack a folder as an archive; with rehash, the manifest lists the new hashes
    (a careful tamperer), so only the checks on the contents can catch the change."""
    manifest = json.loads((root / MANIFEST).read_text())
    if rehash:
        files = [p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST]
        manifest["files"] = {p.relative_to(root).as_posix(): file_sha256(p) for p in files}
        (root / MANIFEST).write_text(json.dumps(manifest))
    with tarfile.open(out, "w:gz") as tar:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                tar.add(p, arcname=p.relative_to(root).as_posix())
    return out


def tampered(archive: Path, workdir: Path, change: Callable[[Path], None], rehash: bool = True) -> Path:
    root = extract(archive, workdir / "unpacked")
    change(root)
    return pack(root, workdir / "tampered.mlsbench.tar.gz", rehash)


def rewrite_journal(path: Path, change: Callable[[list[dict]], list[dict]]) -> None:
    """Rewrite a journal with a freshly computed hash chain (a forger who knows the format)."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records = change(records)
    path.unlink()
    journal = Journal(path)
    for record in records:
        journal.append(record["type"], **record["data"])
    journal.close()


def copy_session(session_dir: Path, into: Path) -> Path:
    target = into / session_dir.parent.name / session_dir.name
    shutil.copytree(session_dir, target)
    return target
