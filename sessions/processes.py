"""Process groups the engine started, told apart from programs that reuse their ids.

A job is a process group whose leader is the engine's wrapper; it is identified by
the group id (the wrapper's pid) plus a token in the wrapper's environment
(MLSBENCH_JOB=<token>). After a reboot the same pid may belong to another program:
without the token it is neither followed nor signalled. Where /proc is missing
(not Linux) the pid alone has to do.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

JOB_TOKEN = "MLSBENCH_JOB"
ANY_TOKEN = ""  # match any process the engine started, whichever job it was


def _environ_token(pid: int) -> str | None:
    """The process's MLSBENCH_JOB value: "?" where there is no /proc to ask, None where it
    has none (or is gone, or belongs to another user: then it is not one of ours either)."""
    if not Path("/proc/self/environ").exists():
        return "?"
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = JOB_TOKEN.encode() + b"="
    for item in raw.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode("utf-8", "replace")
    return None


def _exists(probe, ident: int) -> bool:
    """probe(ident, 0) (os.kill or os.killpg) finds it, and its process is not a zombie."""
    try:
        probe(ident, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(ident)


def process_alive(pid: int) -> bool:
    """pid names a process that has not ended (a zombie has ended)."""
    return _exists(os.kill, pid)


def group_alive(pgid: int) -> bool:
    """The group still has a process that has not ended: its leader, or members it left.
    Zombies count as gone (where init reaps late, orphans stay in the group as zombies)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc/self/stat").exists():
        return True  # no /proc to ask: kill(0) has to do
    return any(_in_group_and_running(entry.name, pgid) for entry in Path("/proc").iterdir() if entry.name.isdigit())


def _in_group_and_running(pid: str, pgid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] == pgid and stat[0] not in ("Z", "X")


def _stat(pid: int | str) -> tuple[str, int] | None:
    """(state, process group) of a process by /proc; None where it cannot be read (gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return fields[0], int(fields[2])  # after the name: state, ppid, pgrp


def _is_zombie(pid: int) -> bool:
    """A reaped-late process shows as alive to kill(0); /proc tells the truth."""
    stat = _stat(pid)
    return stat is not None and stat[0] == "Z"


def token_groups(token: str) -> set[int]:
    """The process groups of live processes started with this token (their environment
    says so); empty where there is no /proc to ask."""
    if not Path("/proc/self/environ").exists():
        return set()
    groups = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _environ_token(int(entry.name)) == token:
            try:
                groups.add(os.getpgid(int(entry.name)))
            except ProcessLookupError:
                pass  # ended while we looked
    return groups


def is_our_leader(pid: int, token: str) -> bool:
    """pid is alive and is the wrapper started with this token (ANY_TOKEN: any of ours)."""
    if not process_alive(pid):
        return False
    found = _environ_token(pid)
    if found == "?":
        return True  # no /proc to ask: trust the pid
    return found is not None and (token == ANY_TOKEN or found == token)


def is_our_group(pgid: int, token: str = ANY_TOKEN) -> bool:
    """The group is ours: its leader carries our token, or the leader has ended and
    members it left behind still hold the group id (no new process can take it then)."""
    if process_alive(pgid):
        return is_our_leader(pgid, token)
    return group_alive(pgid)


def signal_group(pgid: int, sig: int, token: str = ANY_TOKEN, trusted: bool = False) -> bool:
    """Send sig to the group if it is ours (trusted: known to be, e.g. a child); whether it was sent."""
    if not trusted and not is_our_group(pgid, token):
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_group(pgid: int) -> None:
    """SIGKILL a group known to be ours (a child's, or one checked with is_our_group)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def end_leftovers(pgid: int) -> None:
    """After the leader ended: kill what it left running in its group (background processes)."""
    if not process_alive(pgid):
        kill_group(pgid)
