"""Which session `mlsbench-tui --task ID` opens, and the notice that says so in the app.

The app takes the whole screen at once, so what a person must know about the
choice (resumed which session, or why a new one was started) is shown in the
app as a notice rather than printed before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from sessions.engine import Session
from sessions.store import SessionSummary, list_sessions


@dataclass(frozen=True)
class Opening:
    resume: SessionSummary | None  # the session to resume; None: start a new one
    why: str  # why a new one is started (empty when resuming)


def choose(found: list[SessionSummary], profile: str | None, seed: int | None, new: bool) -> Opening:
    """The newest open session of the task that fits --profile and --seed, unless --new.

    `found` is the task's sessions, oldest first (as list_sessions gives them)."""
    fitting = [s for s in found if profile in (None, s.profile) and seed in (None, s.seed)]
    open_ = [s for s in fitting if s.is_open]
    if new:
        kept = f"; your open session {open_[-1].id} stays as it was (--resume opens it)" if open_ else ""
        return Opening(None, f"--new was given{kept}")
    if open_:
        return Opening(open_[-1], "")
    if not found:
        return Opening(None, "you have no session of this task yet")
    if fitting and fitting[-1].closed:
        last = fitting[-1]
        return Opening(None, f"your last session of this task, {last.id}, was submitted (test #{last.submitted_test}) "
                             f"and takes no more edits or tests; `mlsbench-tui --resume {last.id}` shows its results")
    others = [s for s in found if s.is_open]
    if others:
        other = others[-1]
        return Opening(None, f"your open session {other.id} is on profile {other.profile}, seed {other.seed}, "
                             "not the profile or seed asked for")
    return Opening(None, f"none of your {len(found)} session(s) of this task is open (`mlsbench-tui sessions` lists them)")


def open_for_task(ctx, notes: list[str]) -> Session:
    """Resume or create the session `--task` asks for; what the person should know is added to `notes`."""
    args = ctx.args
    task = ctx.task(args.task)
    opening = choose(list_sessions(ctx.sessions_dir, task.id), args.profile, args.seed, args.new)
    if opening.resume is not None:
        summary = opening.resume
        notes.append(f"Resumed session {summary.id} ({summary.status}, profile {summary.profile}, "
                     f"seed {summary.seed}). `--new` starts a fresh one.")
        if args.time_limit:
            notes.append("--time-limit applies to a new session only; this one keeps the limit it was "
                         "created with (`--new --time-limit ...` starts one with yours).")
        return ctx.open_session(summary.dir)
    session = ctx.new_session(notes)
    notes.append(f"Started a new session {session.id} (profile {session.profile}, seed {session.seed}): {opening.why}.")
    return session
