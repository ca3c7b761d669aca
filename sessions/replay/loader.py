"""`load_replay(path)`: detect what a path holds and import it.

- a session directory (holding journal.jsonl), or a journal.jsonl file
- an MLS-Bench agent conversation exported as JSON
- the plain-text transcript form of such a conversation
- a session archive written by `session export` (.tar.gz)

Contents are never trusted to be well formed: whatever can be read becomes
steps, and `skipped` says what was left out and why. Only a path that is
not there (or not readable at all) raises `ReplayError`, and JSON that is
no conversation (an index of conversations, say: nothing holds `messages`)
raises `NotAConversation` (a `ReplayError`); each with a one-line reason.
Whoever reads a folder of conversations skips the latter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sessions.archive import ARCHIVE_SUFFIXES, open_archive
from sessions.errors import Refused
from sessions.folder import JOURNAL
from sessions.replay.agent import AgentReplayBuilder
from sessions.replay.agent_json import read_json_conversation
from sessions.replay.agent_text import decode_bytes, read_text_conversation
from sessions.replay.conversation import Conversation
from sessions.replay.model import Replay
from sessions.replay.own import import_session
from sessions.settings import current_settings

SNIFF_BYTES = 4096


class ReplayError(Refused):
    """The path cannot be replayed at all (missing, unreadable, a folder with no session)."""


class NotAConversation(ReplayError):
    """JSON that holds no conversation (an index of conversations, say): a folder of them may have one."""


@dataclass
class ImportResult:
    replay: Replay
    skipped: list[str] = field(default_factory=list)  # human-readable: what was left out and why
    format: str = ""  # session | archive | agent-json | agent-text


def detect_format(path: Path) -> str:
    """session | archive | agent-json | agent-text, from the path and the start of the file."""
    if path.is_dir():
        if (path / JOURNAL).is_file():
            return "session"
        raise ReplayError(f"{path} is a folder without a {JOURNAL}: not a session directory")
    if path.name.endswith(ARCHIVE_SUFFIXES):
        return "archive"
    head = _head(path)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.name == JOURNAL or _looks_like_journal(stripped):
        return "session"
    if stripped[:1] in (b"{", b"[") or (path.suffix.lower() == ".json" and not stripped.startswith(b"Agent Conversation")):
        return "agent-json"
    return "agent-text"


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise ReplayError(f"{path} cannot be read: {exc.strerror or exc}") from None


def _looks_like_journal(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except ValueError:
        return False
    return isinstance(obj, dict) and {"seq", "type", "prev"} <= set(obj)


def _task_for(conv_task: str | None, catalog):
    """The local task spec for an agent's task id, or None with the reason."""
    if not conv_task:
        return None, "the conversation does not name its task: edits are shown as the agent's text"
    if catalog is None:
        return None, None
    try:
        return catalog.get(conv_task), None
    except Exception as exc:  # UnknownTask, TaskSpecError
        return None, f"task {conv_task}: not usable from the local catalog ({exc}); edits are shown as the agent's text"


def _task_id_of(conv: Conversation) -> str | None:
    if conv.task_id:
        return conv.task_id
    from sessions.replay.agent import TASK_LINE

    for msg in conv.messages:
        if msg.role == "user" and msg.text:
            m = TASK_LINE.search(msg.text)
            return m.group(1) if m else None
    return None


def load_replay(path: Path, catalog=None, *, reapply: bool = True) -> ImportResult:
    """Import a replay from any supported source.

    `catalog` (a tasks.Catalog) finds the task's scaffold to re-apply an
    agent's edits to; None uses the default catalog. `reapply=False` shows
    the agents' edits as their text only.
    """
    path = Path(path)
    if not path.exists():
        raise ReplayError(f"{path}: no such file or folder")
    fmt = detect_format(path)
    if fmt == "archive":
        return _load_archive(path)
    if fmt == "session":
        replay = import_session(path)
        return ImportResult(replay, replay.skipped, fmt)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ReplayError(f"{path} cannot be read: {exc.strerror or exc}") from None
    conv = _read_conversation(fmt, blob, str(path))
    if not conv.messages and conv.meta.get("not_a_conversation"):
        raise NotAConversation(f"{path} is not an agent conversation: {conv.meta['not_a_conversation']}")
    task_id = _task_id_of(conv)
    conv.task_id = task_id
    task, why = None, None
    if reapply:
        if catalog is None:
            try:
                from tasks.catalog import Catalog

                catalog = Catalog(current_settings().task_dirs)
            except Exception as exc:
                why = f"the task catalog could not be loaded ({exc})"
        task, reason = _task_for(task_id, catalog)
        why = why or reason
    replay = AgentReplayBuilder(conv, task, why, reapply=reapply).build()
    return ImportResult(replay, replay.skipped, fmt)


def _load_archive(path: Path) -> ImportResult:
    """An exported session (`session export`): replayed from its journal and logs, unverified
    (`mlsbench-tui verify` checks it)."""
    with open_archive(path) as archive:
        replay = import_session(archive.root)
    replay.path = str(path)
    replay.notes.append(f"from the archive {path.name}; `mlsbench-tui verify {path}` checks it")
    return ImportResult(replay, replay.skipped, "archive")


def _read_conversation(fmt: str, blob: bytes, path: str) -> Conversation:
    try:
        if fmt == "agent-json":
            probe = Conversation("agent-json", path)
            conv = read_json_conversation(decode_bytes(blob, probe), path)
            conv.skipped[:0] = probe.skipped
            if not conv.messages and "Agent Conversation:" in blob[:SNIFF_BYTES].decode("utf-8", "replace"):
                conv = read_text_conversation(blob, path)
            return conv
        return read_text_conversation(blob, path)
    except Exception as exc:  # never stop at a file's contents
        conv = Conversation(fmt, path)
        conv.skipped.append(f"the file could not be read as a conversation ({type(exc).__name__}: {exc})")
        return conv
