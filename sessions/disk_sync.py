"""What happens when another editor saves a workspace file: the one policy of the app and `session sync`.

A change that keeps to the editable lines is recorded as edits. One that does
not is refused: its text is kept in the session's rejected-edits/ and the file
is put back as the session has it, so nothing typed is lost and the fixed lines
stay the scaffold's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sessions.errors import Refused

if TYPE_CHECKING:
    from sessions.engine import Session

UNCHANGED, ACCEPTED, REFUSED, UNREADABLE = "unchanged", "accepted", "refused", "unreadable"


@dataclass(frozen=True)
class DiskReconciled:
    outcome: str  # unchanged | accepted | refused | unreadable
    message: str = ""  # accepted: the engine's message; refused, unreadable: why, and what was done
    kept: Path | None = None  # where a refused text, or a view's replaced unsaved text, was kept

    @property
    def changed(self) -> bool:
        """The disk differed from the session (whatever became of it)."""
        return self.outcome != UNCHANGED

    @property
    def refusal(self) -> str | None:
        return self.message if self.outcome in (REFUSED, UNREADABLE) else None


def reconcile_disk(session: Session, path: str, unsaved: str | None = None) -> DiskReconciled:
    """Record or put back what another editor saved to `path`; see the module's text.

    unsaved: a view's own unsaved text of the file, kept aside when an accepted change replaces it.
    """
    if session.state.read_only:  # a submission started: nothing more is recorded, nor restored
        return DiskReconciled(UNCHANGED)
    try:
        disk = session.disk_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        session.restore_workspace_file(path)
        return DiskReconciled(UNREADABLE, f"{path}: {exc}; it was restored from the session")
    if disk == session.file_state(path).text:
        return DiskReconciled(UNCHANGED)
    try:
        message = session.replace_text(path, disk)
    except Refused as exc:
        kept = session.folder.keep_rejected(path, disk)
        session.restore_workspace_file(path)
        return DiskReconciled(
            REFUSED, f"{exc}\nThe file was put back as the session has it; your version is kept in {kept}.", kept)
    kept = session.folder.keep_rejected(path, unsaved) if unsaved is not None else None
    return DiskReconciled(ACCEPTED, message or "", kept)


def sync_outcomes(outcomes: list[DiskReconciled]) -> list[str]:
    """`session sync`'s answer: the messages of what was recorded; a refusal says all that happened."""
    recorded = [o.message for o in outcomes if o.outcome == ACCEPTED and o.message]
    refused = [o.refusal for o in outcomes if o.refusal]
    if refused:
        raise Refused("\n".join(recorded + refused))
    return recorded
