"""The journal: hash-chained, fsynced, tolerant of a torn last line, strict on edits."""

import json

import pytest

from sessions.journal import GENESIS, Journal, JournalCorrupt, read_journal


def write_three(path):
    journal = Journal(path)
    for i in range(3):
        journal.append("note", text=f"entry {i}")
    journal.close()


def test_entries_chain_by_hash(tmp_path):
    path = tmp_path / "journal.jsonl"
    write_three(path)
    entries, prev, size, warning = read_journal(path)
    assert [e.data["text"] for e in entries] == ["entry 0", "entry 1", "entry 2"]
    assert json.loads(path.read_text().splitlines()[0])["prev"] == GENESIS
    assert size == path.stat().st_size and warning is None


def test_a_torn_last_line_is_dropped_reported_and_cut(tmp_path):
    path = tmp_path / "journal.jsonl"
    write_three(path)
    with open(path, "ab") as fh:
        fh.write(b'{"seq": 3, "time": "2026-')  # killed mid-write
    journal = Journal(path)
    assert len(journal.entries) == 3
    assert "incomplete last line" in journal.warning
    journal.append("note", text="after the crash")  # chains to entry 2
    journal.close()
    entries, _, _, warning = read_journal(path)
    assert [e.data["text"] for e in entries][-1] == "after the crash" and warning is None


def test_an_edited_line_is_detected(tmp_path):
    path = tmp_path / "journal.jsonl"
    write_three(path)
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("entry 1", "entry X")
    path.write_text("".join(lines))
    with pytest.raises(JournalCorrupt) as info:
        Journal(path)
    assert info.value.line_no == 3  # line 3 no longer chains to the edited line 2
    assert "hash chain broken" in str(info.value)


def test_a_garbage_line_is_detected(tmp_path):
    path = tmp_path / "journal.jsonl"
    write_three(path)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(1, "not json\n")
    path.write_text("".join(lines))
    with pytest.raises(JournalCorrupt, match="line 2: not a journal entry"):
        Journal(path)


def test_a_removed_line_is_detected(tmp_path):
    path = tmp_path / "journal.jsonl"
    write_three(path)
    lines = path.read_text().splitlines(keepends=True)
    del lines[1]
    path.write_text("".join(lines))
    with pytest.raises(JournalCorrupt, match="line 2"):
        Journal(path)
