"""A person's notes: free text (markdown) attached to the step the session is at.

    add_note(session, "lr too high; try 0.05")    # journaled as a person_note entry
    session_notes(journal.entries)                # every note, with its step

Notes are the person's thinking, the way an agent's conversation has its
own: they are exported, shown in the History tab and in replays. Writing one
is allowed at any time (paused, out of time, after the submission): it
changes no code and spends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sessions.errors import Refused
from sessions.journal import Entry
from sessions.state import SessionState

NOTE = "person_note"
MAX_NOTE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Note:
    seq: int
    time: str
    text: str
    step: str  # "before the first test", "after test #2", ...
    tests: int  # how many tests had started when it was written


def current_step(state: SessionState) -> str:
    """The step the session is at, in words."""
    if state.submission is not None:
        return f"after submitting test #{state.submission.key.n}"
    if not state.tests:
        edits = f" ({state.edits} edit{'s' if state.edits != 1 else ''} saved)" if state.edits else ""
        return f"before the first test{edits}"
    return f"after test #{len(state.tests)}"


def clean_note(text: str) -> str:
    """The note as it is journaled; refused when there is nothing to keep or too much."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        raise Refused("the note is empty, so nothing was recorded: write some text first")
    if "\0" in text:
        raise Refused("the note contains a NUL byte and was not recorded: notes are plain text")
    size = len(text.encode("utf-8"))
    if size > MAX_NOTE_BYTES:
        raise Refused(f"the note is {size} bytes, more than the {MAX_NOTE_BYTES} a note may have; "
                      "nothing was recorded: shorten it or split it in two")
    return text


def add_note(session, text: str) -> Note:
    """Journal a note at the session's current step."""
    if not session.writable:
        raise Refused(f"session {session.id} is open here only to read; the note was not recorded")
    text = clean_note(text)
    step, tests = current_step(session.state), len(session.state.tests)
    session.record(NOTE, text=text, step=step, tests=tests)
    entry = session.journal.entries[-1]
    return Note(entry.seq, entry.time, text, step, tests)


def session_notes(entries: Iterable[Entry]) -> list[Note]:
    """Every note of a journal, in order (malformed ones shown as far as they can be)."""
    return [Note(e.seq, e.time, str(e.data.get("text", "")), str(e.data.get("step", "")), _count(e.data.get("tests")))
            for e in entries if e.type == NOTE]


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
