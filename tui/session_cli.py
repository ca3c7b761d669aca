"""`mlsbench-tui session ...`: a session driven from a script, with no screen (status, edits,
undo, tests and submissions streamed to the terminal, notes)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from sessions.archive import SUFFIX, export_session
from sessions.engine import Session
from sessions.errors import Refused
from sessions.events import LogLines, Progress, RunFinished, SettingStatus
from sessions.leaderboard import final_table_lines
from sessions.notes import add_note
from tui.cli_context import CliError, Context


def status_dict(session: Session) -> dict[str, Any]:
    st = session.state
    return {
        "session": session.id, "dir": str(session.dir), "task": session.task.id, "profile": session.profile,
        "person": session.meta.get("person", ""),
        "seed": session.seed, "budget_left": st.budget_left, "budget_total": st.budget_total,
        "closed": st.closed, "submitted_test": st.submitted_test, "edits": st.edits,
        "files": {p: [[r.start, r.end] for r in f.ranges] for p, f in st.files.items() if f.ranges},
        "tests": [{"n": r.key.n, "finished": r.finished,
                   "settings": {s.label: {"status": s.status, "exit_code": s.exit_code, "results": s.results}
                                for s in r.settings.values()}} for r in st.tests],
        "final_results": session.final_results(),
        "work_time": st.work.summary(), "paused": st.work.paused,
    }


def print_status(session: Session) -> None:
    st = session.state
    print(f"session {session.id}  task {session.task.id}  profile {session.profile}  seed {session.seed}"
          f"  player {session.meta.get('person') or 'anonymous'}")
    print(f"workspace {session.workspace}")
    print(f"tests: {st.budget_left} of {st.budget_total} left"
          + (f"; submitted test #{st.submitted_test}" if st.closed else ""))
    print("; ".join(st.work.lines()))
    for path, f in st.files.items():
        if f.ranges:
            print(f"editable: {path} lines {', '.join(str(r) for r in f.ranges)} (of {len(f.lines)})")
    for run in st.tests:
        state = "finished" if run.finished else "running"
        print(f"test #{run.key.n} ({state}): " + ", ".join(
            f"{s.label} {s.status}" + (f" {s.results}" if s.results else "") for s in run.settings.values()))
    if st.closed:
        print("\n".join(final_table_lines(session.task, session.profile, session.final_results())))


class Streamer:
    """Prints a run's events as they arrive (plain text or JSON lines)."""

    def __init__(self, as_json: bool):
        self.as_json = as_json

    def __call__(self, event: Any) -> None:
        if self.as_json:
            self._json(event)
        elif isinstance(event, LogLines):
            sys.stdout.write("".join(f"[{event.label}] {line}\n" for line in event.lines))
        elif isinstance(event, SettingStatus):
            code = f" (exit {event.exit_code})" if event.exit_code not in (None, 0) else ""
            detail = f": {event.detail}" if event.detail else ""
            print(f"== {event.label}: {event.status}{code}{detail}", flush=True)

    def _json(self, event: Any) -> None:
        if isinstance(event, LogLines):
            out = [{"event": "line", "label": event.label, "text": line} for line in event.lines]
        elif isinstance(event, SettingStatus):
            out = [{"event": "status", "label": event.label, "status": event.status,
                    "exit_code": event.exit_code, "detail": event.detail}]
        elif isinstance(event, Progress):
            out = [{"event": "progress", "label": event.label, "done": event.done, "total": event.total,
                    "eta_seconds": event.eta_seconds}]
        elif isinstance(event, RunFinished):
            out = [{"event": "finished", "run": str(event.run), "feedback": event.feedback}]
        else:
            out = []
        sys.stdout.write("".join(json.dumps(o) + "\n" for o in out))


class Interrupts:
    """Ctrl-C while following a run. Before the run is journaled it stops the start
    (nothing spent); from then on it only asks for a cancel, which the follow loop
    makes once the run is launched, so that no setting is left queued."""

    def __init__(self, session: Session):
        self.session, self.requested = session, False
        self._previous = None

    def __enter__(self) -> Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum, frame) -> None:
        if not self.session.committing and self.session.state.active_run() is None:
            raise KeyboardInterrupt  # nothing journaled (yet, or any more): stop here
        if not self.requested:
            print("\ncancelling the run (the test stays spent) ...", file=sys.stderr)
        self.requested = True

    def cancel_if_requested(self) -> None:
        if self.requested and self.session.state.active_run() is not None:
            try:
                self.session.cancel()
            except Refused:
                pass  # it ended meanwhile
            self.requested = False


def follow(session: Session, start, as_json: bool) -> None:
    """Run start() (a test, a submission, a re-attach), streaming until it ends.

    Ctrl-C cancels the run (a cancelled test is not refunded)."""
    session.subscribe(Streamer(as_json))
    with Interrupts(session) as interrupts:
        try:
            controller = start()
        except KeyboardInterrupt:
            print("\ninterrupted before the run started: nothing was spent", file=sys.stderr)
            raise
        if controller is None:
            print("nothing is running in this session")
            last = session.state.runs[-1] if session.state.runs else None
            if last is not None and not as_json:
                print(f"\nThe last run, {last.key}, has finished:\n\n{last.feedback or ''}")
            return
        while not controller.wait(0.2):
            interrupts.cancel_if_requested()
    if controller.error:
        raise CliError(f"{controller.error}\nThe run was left as it was; "
                       "`mlsbench-tui session wait` follows it again once that is fixed.")
    if not as_json:
        run = session.state.submission if session.state.submission and session.state.submission.finished else session.state.tests[-1]
        print()
        print(run.feedback or "")
        if session.state.closed:
            print()
            print("\n".join(final_table_lines(session.task, session.profile, session.final_results())))


def cmd_export(ctx: Context) -> None:
    directory = ctx.session_dir(ctx.args.id, None)
    out = ctx.args.output or Path(".")
    if out.is_dir():
        out = out / (directory.name + SUFFIX)
    export_session(directory, ctx.task(directory.parent.name), out)
    if ctx.args.json:
        print(json.dumps({"session": directory.name, "archive": str(out)}))
    else:
        print(f"exported session {directory.name} to {out}; `mlsbench-tui verify {out}` checks it")


def cmd_session(ctx: Context) -> None:
    args = ctx.args
    if args.action == "export":  # reads the session's files; needs no lock
        cmd_export(ctx)
        return
    if args.action == "new":
        session = ctx.new_session()
        if args.json:
            print(json.dumps(status_dict(session), indent=1))
        else:
            print(f"created session {session.id} ({session.task.id}, profile {session.profile}, seed {session.seed})")
            print_status(session)
        session.close()
        return
    directory = ctx.session_dir(args.session, args.task)
    if args.action == "status":
        session = ctx.view_session(directory)
        print(json.dumps(status_dict(session), indent=1)) if args.json else print_status(session)
        return
    content = read_content(args.content_file) if args.action == "edit" else ""
    if args.action == "note":
        content = read_content(Path("-")) if args.text == "-" else args.text
    try:
        session = ctx.open_session(directory)
    except Refused as exc:
        if args.action != "note":
            raise
        raise Refused(f"{exc}; in the app, ctrl+r writes a note") from None  # open in the app, say
    try:
        if session.resume_warning:
            print(f"warning: {session.resume_warning}", file=sys.stderr)
        if args.action == "edit":
            _say(args, session.edit(args.file, args.start, args.end, content), session)
        elif args.action == "undo":
            _say(args, session.undo(args.n), session)
        elif args.action == "note":
            note = add_note(session, content)
            _say(args, f"note recorded {note.step} (journal line {note.seq + 1})", session)
        elif args.action == "sync":
            _say(args, "\n".join(session.sync_from_disk()) or "nothing to record: the workspace matches the journal", session)
        elif args.action == "test":
            follow(session, session.start_test, args.json)
        elif args.action == "wait":
            follow(session, session.reattach, args.json)
        elif args.action == "submit":
            follow(session, lambda: session.start_submit(args.n), args.json)
    finally:
        session.close()


def read_content(path: Path) -> str:
    """The new lines for `session edit`, from a file or stdin ('-'), as text."""
    where = "stdin" if str(path) == "-" else str(path)
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except IsADirectoryError:
        raise CliError(f"--content-file {where} is a folder; give the file holding the new lines") from None
    except FileNotFoundError:
        raise CliError(f"--content-file {where} does not exist; give the file holding the new lines "
                       "('-' reads them from stdin)") from None
    except OSError as exc:
        raise CliError(f"--content-file {where} cannot be read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"--content-file {where} is not UTF-8 text (byte {exc.start} cannot be decoded); "
                       "save it as UTF-8") from None


def _say(args: argparse.Namespace, message: str, session: Session) -> None:
    if args.json:
        print(json.dumps({"message": message, **status_dict(session)}, indent=1))
    else:
        print(message)
