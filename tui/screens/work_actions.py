"""The main screen's working clock (pause, resume, the ticks it journals) and notes."""

from __future__ import annotations

from typing import Callable

from sessions.errors import Refused
from sessions.notes import add_note, current_step
from tui.notices import show_refusal
from tui.screens.note import NoteDialog
from tui.widgets.history import HistoryPanel


class WorkActions:
    """Mixed into MainScreen (it provides session, work, files, editors and refresh_header)."""

    def _journal_clock(self, call: Callable[[], object]) -> None:
        try:
            call()
        except Refused as exc:  # the disk is full, say: the clock goes on in memory
            show_refusal(self.app, "The working clock was not recorded", str(exc))
        self.refresh_header()

    def tick_work(self) -> None:
        self._journal_clock(self.work.tick)

    def _lock_editors(self) -> None:
        """Editors are read-only after a submission, and while paused or out of time (saying why)."""
        state = self.session.state
        because = None if state.submission is not None else state.work.refusal()
        locked = state.submission is not None or because is not None
        if any(e.read_only != locked or e.locked_because != because for e in self.editors()):
            self.files.set_read_only(locked, because)

    def action_pause_work(self) -> None:
        """F10 (or p outside the editor): pause the working clock, or resume it."""
        state = self.session.state
        if state.read_only:
            self.notify("The working clock stopped at the submission: there is nothing to pause.", timeout=4)
            return
        if state.work.paused:
            self._journal_clock(self.work.resume)
            self.notify("Resumed: the working clock runs again.", title="Working clock", timeout=4)
        else:
            self._journal_clock(self.work.pause)
            self.notify("Paused: the working clock is stopped. Edits and new tests wait until you resume "
                        "(F10, or p); a test that runs keeps running.", title="Working clock", timeout=8)
        self._lock_editors()

    def action_note(self) -> None:
        """ctrl+r (or n outside the editor): write a note at the step the session is at."""
        def save(text: str) -> str:
            note = add_note(self.session, text)
            self.query_one("#history", HistoryPanel).refresh_notes()
            return f"Note recorded {note.step} (journaled)."

        self.app.push_screen(NoteDialog(current_step(self.session.state), save),
                             lambda message: self.notify(message, title="Note", timeout=4) if message else None)
