"""The `mlsbench-tui` command: the app, and scriptable subcommands over the same engine.

Only the app itself imports Textual, and only when it starts; the scripted
subcommands (session, list, sessions, leaderboard, replay --print) run
without a screen, the way a script or an agent harness would drive them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import sys
from pathlib import Path
from typing import Any

from sessions.archive import SUFFIX, export_session
from sessions.archive_rows import archive_rows, import_lines
from sessions.engine import Session
from sessions.environment import environment_problems
from sessions.errors import Refused
from sessions.events import LogLines, Progress, RunFinished, SettingStatus
from sessions.journal import JournalCorrupt
from sessions.leaderboard import board_json, board_lines, build_board, final_table_lines, ranked_with
from sessions.notes import add_note
from sessions.runners import RUNNERS, RunnerConfigError, make_runner, runner_sessions_dir
from sessions.settings import current_settings, player_name
from sessions.slots import cuda_available
from sessions.state import ReplayMismatch
from sessions.store import find_session, list_sessions, session_or_path
from sessions.verify import verdict_lines, verify_archive
from sessions.worktime import parse_limit, set_time_limit
from tasks import Catalog, TaskSpec, TaskSpecError, UnknownTask
from tasks.spec import PROFILES
from tui.opening import open_for_task
from tui.rescore_cli import add_rescore_parser, cmd_rescore


class CliError(Exception):
    """A message for the person at the terminal; exit status 2."""


# -- arguments ------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    """Options valid before and after a subcommand (SUPPRESS keeps the top value)."""
    default = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    parser.add_argument("--sessions-dir", type=Path, default=default(None),
                        help="where sessions are kept (env MLSBENCH_SESSIONS)")
    parser.add_argument("--tasks-dir", type=Path, action="append", default=default([]),
                        help="an extra folder of tasks (repeatable; env MLSBENCH_TASKS)")
    parser.add_argument("--data-root", type=Path, default=default(None),
                        help="where datasets live (env MLSBENCH_DATA)")
    parser.add_argument("--runner", choices=RUNNERS, default=default("local"),
                        help="where settings run (default local)")
    parser.add_argument("--runner-config", type=Path, default=default(None),
                        help="TOML file configuring the runner (e.g. Slurm partition)")
    parser.add_argument("--json", action="store_true", default=default(False), help="machine-readable output")


def time_limit(text: str) -> float:
    try:
        return parse_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _new_session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="task id (see `mlsbench-tui list`)")
    parser.add_argument("--profile", choices=PROFILES, help="paper | quick | demo (default: paper with a GPU, else demo)")
    parser.add_argument("--time-limit", type=time_limit, metavar="DURATION",
                        help="a new session's limit on working time, pauses not counted (e.g. 2h, 90m, 1h30m)")
    parser.add_argument("--seed", type=int, help="training seed (default: the task's, 42)")
    parser.add_argument("--name", help="your name on leaderboards and in exported sessions "
                                       "(env MLSBENCH_NAME; default: the login name)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlsbench-tui",
        description="Take on an MLS-Bench research task under the rules the AI agents had.",
        epilog="Start with: mlsbench-tui --task cv-multitask-loss",
        allow_abbrev=False,  # `session submit --n 2` is the subcommand's, never --name or --new cut short
    )
    _common(parser, top=True)
    _new_session_options(parser)
    parser.add_argument("--resume", metavar="SESSION", help="open this session (id or prefix)")
    parser.add_argument("--new", action="store_true", help="start a new session even if one is open")
    parser.add_argument("--replay", metavar="PATH", help="play back a session (folder, id or prefix) or an agent conversation")
    parser.add_argument("--compare", metavar="PATH", help="with --replay: a second replay to show side by side")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("list", help="the tasks and whether they can run")
    _common(p, top=False)
    p = sub.add_parser("sessions", help="the sessions kept locally")
    _common(p, top=False)
    p.add_argument("--task")
    p = sub.add_parser("leaderboard", help="published results and local submissions, by profile")
    _common(p, top=False)
    p.add_argument("--task", required=True)
    p.add_argument("--profile", choices=PROFILES)
    p.add_argument("--agents", type=Path, action="append", default=[], metavar="PATH",
                   help="published agent conversations (file or folder, scanned recursively; repeatable; "
                        "env MLSBENCH_AGENTS)")
    p.add_argument("--results-dir", type=Path, help="the re-scored results store (env MLSBENCH_RESULTS)")
    p.add_argument("--import", type=Path, action="append", default=[], dest="import_dirs", metavar="DIR",
                   help="a folder of session archives: each verified one becomes a row (repeatable)")
    add_rescore_parser(sub, _common)
    p = sub.add_parser("replay", help="print a replay as plain text (--json: as JSON)")
    _common(p, top=False)
    p.add_argument("path", metavar="PATH", help="a session (folder, id or prefix) or an agent conversation")
    p.add_argument("--print", action="store_true", dest="print_", help="print the steps (the default here)")
    p = sub.add_parser("verify", help="check a session archive against this installation (exit 0: all checks hold)")
    _common(p, top=False)
    p.add_argument("archive", type=Path, metavar="FILE")

    session = sub.add_parser("session", help="drive a session without the screen").add_subparsers(dest="action", required=True)
    p = session.add_parser("new", help="create a session and print its id")
    _common(p, top=False)
    _new_session_options(p)
    for name, helptext in (
        ("status", "budget, editable ranges, tests"),
        ("edit", "replace editable lines"),
        ("undo", "undo the last edit(s)"),
        ("sync", "record changes saved to the workspace by another editor"),
        ("test", "spend one test: run the visible settings, stream them, print the feedback"),
        ("wait", "follow a test or submission that is still running (after a restart)"),
        ("submit", "submit test N: run the hidden settings and close the session"),
    ):
        p = session.add_parser(name, help=helptext)
        _common(p, top=False)
        p.add_argument("--session", help="session id or prefix (default: the newest open one)")
        p.add_argument("--task", help="with no --session: the newest open session of this task")
        if name == "edit":
            p.add_argument("--file", required=True, help="workspace path, e.g. pytorch-vision/custom_mtl.py")
            p.add_argument("--start", type=int, required=True)
            p.add_argument("--end", type=int, required=True)
            p.add_argument("--content-file", type=Path, required=True, help="the new lines ('-' for stdin)")
        if name == "undo":
            p.add_argument("--n", type=int, default=1)
        if name == "submit":
            p.add_argument("--n", type=int, required=True, help="which test to submit")
    p = session.add_parser("note", help="add a note (markdown) to a session at the step it is at")
    _common(p, top=False)
    p.add_argument("text", metavar="TEXT", help="the note ('-' reads it from stdin)")
    p.add_argument("--session", help="session id or prefix (default: the newest open one)")
    p.add_argument("--task", help="with no --session: the newest open session of this task")
    p = session.add_parser("export", help="write a session as one archive that others can verify")
    _common(p, top=False)
    p.add_argument("id", metavar="ID", help="session id or prefix")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help=f"the archive, or a folder for <id>{SUFFIX} (default: this folder)")
    return parser


# -- shared resolution -------------------------------------------------------------------
def absolute_paths(args: argparse.Namespace) -> None:
    """Every folder option as an absolute path, once, at start: jobs run inside a test
    folder, where a relative path would name another place (a relative MLSBENCH_*
    folder is made absolute by the engine in the same way)."""
    for name in ("sessions_dir", "data_root", "runner_config"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(args, name, value.expanduser().resolve())
    args.tasks_dir = [p.expanduser().resolve() for p in getattr(args, "tasks_dir", [])]


def check_environment() -> None:
    problems = environment_problems()
    if problems:
        raise CliError("the settings are not usable (environment or settings file):\n  " + "\n  ".join(problems))


class Context:
    def __init__(self, args: argparse.Namespace):
        absolute_paths(args)
        self.args = args
        self.catalog = Catalog([*current_settings().task_dirs, *args.tasks_dir])
        self._runner = None

    @property
    def runner(self):
        if self._runner is None:  # only commands that run settings need one
            self._runner = make_runner(self.args.runner, self.args.runner_config)
        return self._runner

    @property
    def sessions_dir(self) -> Path:
        if self.args.sessions_dir:
            return self.args.sessions_dir
        if self.args.runner != "local":
            shared = runner_sessions_dir(self.runner)
            if shared:
                return shared
        return current_settings().sessions_dir

    def task(self, task_id: str | None) -> TaskSpec:
        if not task_id:
            raise CliError("which task? pass --task ID (`mlsbench-tui list` shows them)")
        return self.catalog.get(task_id)

    def options(self) -> dict[str, Any]:
        return {"runner": self.runner}

    def default_profile(self, task: TaskSpec, notes: list[str] | None = None) -> str:
        """--profile, else paper with a GPU and demo without; the choice is said on stderr,
        or added to `notes` (the app shows them once it has the screen)."""
        if self.args.profile:
            return self.args.profile
        if cuda_available():
            profile, why = "paper", "profile: paper (a CUDA device is visible)"
        else:
            profile, why = "demo", ("profile: demo (no CUDA device visible; its scores are not comparable with "
                                    "published ones; --profile paper runs the published protocol)")
        if notes is None:
            print(why, file=sys.stderr)
        else:
            notes.append(why[0].upper() + why[1:] + ".")
        return profile

    def player(self) -> str:
        """The name a new session records: --name, else the settings' (never empty)."""
        if self.args.name is None:
            return current_settings().player_name
        name = player_name(self.args.name)
        if not name:
            raise CliError("--name is empty: give the name to show on leaderboards, or leave --name out "
                           f"for {current_settings().player_name!r}")
        return name

    def new_session(self, notes: list[str] | None = None) -> Session:
        task = self.task(self.args.task)
        session = Session.create(
            task, sessions_dir=self.sessions_dir, profile=self.default_profile(task, notes),
            seed=self.args.seed, data_root=self.args.data_root, person=self.player(), **self.options(),
        )
        if self.args.time_limit:
            set_time_limit(session, self.args.time_limit)
        return session

    def session_dir(self, session_id: str | None, task_id: str | None) -> Path:
        if session_id:
            try:
                return find_session(self.sessions_dir, session_id)
            except LookupError as exc:
                raise CliError(str(exc)) from None
        open_ = [s for s in list_sessions(self.sessions_dir, task_id) if s.is_open]
        if not open_:
            raise CliError(f"no open session{' of ' + task_id if task_id else ''} in {self.sessions_dir}; "
                           "`mlsbench-tui session new --task ID` starts one")
        return open_[-1].dir

    def replay_path(self, text: str) -> Path:
        """What `replay` and `--replay` read: a file or folder, or a session named by id or prefix."""
        try:
            return session_or_path(self.sessions_dir, text)
        except LookupError as exc:
            raise CliError(str(exc)) from None

    def open_session(self, directory: Path) -> Session:
        task_id = directory.parent.name
        return Session.open(directory, self.task(task_id), **self.options())

    def view_session(self, directory: Path) -> Session:
        """Read-only: no lock, nothing written (works beside the app or a running test)."""
        return Session.view(directory, self.task(directory.parent.name))


# -- commands ------------------------------------------------------------------------------
def cmd_list(ctx: Context) -> None:
    rows = []
    for task_id, entry in ctx.catalog.entries.items():
        if entry.error is not None:
            rows.append({"id": task_id, "runnable": False, "problem": str(entry.error)})
            continue
        spec = entry.spec
        missing = [str(p) for p in spec.missing_sources()]
        rows.append({"id": task_id, "title": spec.title, "runnable": not missing, "missing": missing,
                     "settings": [s.label + (" (hidden)" if s.hidden else "") for s in spec.settings]})
    if ctx.args.json:
        print(json.dumps(rows, indent=1))
        return
    for row in rows:
        mark = "runnable" if row["runnable"] else "not runnable"
        print(f"{row['id']:28} {mark:13} {row.get('title', '')}")
        if row.get("problem"):
            print(f"    broken spec: {row['problem']}")
        for path in row.get("missing", []):
            print(f"    missing: {path}")


def cmd_sessions(ctx: Context) -> None:
    found = list_sessions(ctx.sessions_dir, ctx.args.task)
    if ctx.args.json:
        print(json.dumps([{"id": s.id, "path": str(s.dir), "task": s.task_id, "profile": s.profile, "seed": s.seed,
                           "status": s.status, "results": s.results, "problem": s.problem} for s in found], indent=1))
        return
    if not found:
        print(f"no sessions in {ctx.sessions_dir}")
    for s in found:
        print(f"{s.id}  {s.task_id:24} {s.profile:6} seed {s.seed:<5} {s.status}")
        print(f"    {s.dir}")
        if s.problem:
            print(f"    {s.problem}")


def cmd_leaderboard(ctx: Context) -> None:
    task = ctx.task(ctx.args.task)
    board = build_board(task, ctx.sessions_dir, ctx.default_profile(task), ctx.args.agents,
                        results_dir=ctx.args.results_dir, catalog=ctx.catalog)
    imported = archive_rows(task, ctx.args.import_dirs, board.profile, ctx.catalog)
    for row in imported.rows:
        board = ranked_with(board, row)
    if ctx.args.json:
        print(json.dumps({**board_json(board),
                          "rejected": [{"archive": str(p), "reason": r} for p, r in imported.rejected],
                          "skipped": [{"archive": str(p), "reason": r} for p, r in imported.skipped]}, indent=1))
        return
    print("\n".join(board_lines(board) + import_lines(imported)))


def cmd_replay(ctx: Context, path: str) -> None:
    from sessions.replay import load_replay, replay_dict, write_replay

    result = load_replay(ctx.replay_path(path), ctx.catalog)
    if ctx.args.json:
        json.dump(replay_dict(result.replay), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        write_replay(result.replay, sys.stdout)
    for reason in result.skipped:
        print(f"skipped: {reason}", file=sys.stderr)


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


def cmd_verify(ctx: Context) -> int:
    verdict = verify_archive(ctx.args.archive, ctx.catalog)
    if ctx.args.json:
        print(json.dumps({"archive": str(verdict.path), "ok": verdict.ok,
                          "checks": [{"name": c.name, "ok": c.ok, "ran": c.ran, "detail": c.detail} for c in verdict.checks],
                          "flags": [f.as_dict() for f in verdict.flags], "notes": verdict.notes}, indent=1))
    else:
        print("\n".join(verdict_lines(verdict)))
    return 0 if verdict.ok else 1


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


def cmd_app(ctx: Context) -> None:
    args = ctx.args
    if args.replay:
        from tui.replay_app import run_replay

        compare = ctx.replay_path(args.compare) if args.compare else None
        run_replay(ctx.replay_path(args.replay), ctx.catalog, compare=compare)
        return
    notes: list[str] = []  # shown in the app: anything printed now would be gone under it
    if args.resume:
        session = ctx.open_session(ctx.session_dir(args.resume, None))
        notes.append(f"Opened session {session.id} (--resume).")
    else:
        session = open_for_task(ctx, notes)
    from tui.app import run_app

    run_app(session, notes)


def report_error(args: argparse.Namespace | None, message: str) -> None:
    """An error for the person, or with --json a JSON object on stdout for a script."""
    if args is not None and getattr(args, "json", False):
        print(json.dumps({"error": message, "exit_status": 2}, indent=1))
    else:
        print(f"mlsbench-tui: {message}", file=sys.stderr)


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | None:
    """The parsed command line; with --json a usage error is a JSON object too (None then)."""
    argv = sys.argv[1:] if argv is None else argv
    if "--json" not in argv:
        return parser.parse_args(argv)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code == 0:  # --help: printed on stdout already
            raise
        lines = captured.getvalue().strip().splitlines() or ["invalid arguments"]
        report_error(argparse.Namespace(json=True), lines[-1].split("error: ", 1)[-1])
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
    if args is None:
        return 2
    try:
        check_environment()
        ctx = Context(args)
        if args.command is None:
            if not (args.task or args.resume or args.replay):
                parser.print_help()
                return 0
            cmd_app(ctx)
        elif args.command == "list":
            cmd_list(ctx)
        elif args.command == "sessions":
            cmd_sessions(ctx)
        elif args.command == "leaderboard":
            cmd_leaderboard(ctx)
        elif args.command == "rescore" and args.archive:
            from tui.rescore_cli import cmd_rescore_archive

            cmd_rescore_archive(ctx)
        elif args.command == "rescore":
            cmd_rescore(ctx, ctx.default_profile(ctx.task(args.task)))
        elif args.command == "replay":
            cmd_replay(ctx, args.path)
        elif args.command == "verify":
            return cmd_verify(ctx)
        elif args.command == "session":
            cmd_session(ctx)
    except (Refused, CliError, UnknownTask, TaskSpecError, JournalCorrupt, ReplayMismatch, RunnerConfigError) as exc:
        report_error(args, str(exc))
        return 2
    except OSError as exc:  # a folder or file the command needed: say which, never a traceback
        report_error(args, f"{exc.filename or 'a file'}: {exc.strerror or exc}; check that it exists and that you may use it")
        return 2
    except KeyboardInterrupt:
        print("mlsbench-tui: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
