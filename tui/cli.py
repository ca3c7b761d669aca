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
import sys
from pathlib import Path

from sessions.archive import SUFFIX
from sessions.archive_rows import archive_rows, import_lines
from sessions.errors import Refused
from sessions.journal import JournalCorrupt
from sessions.leaderboard import board_json, board_lines, build_board, ranked_with
from sessions.runners import RUNNERS, RunnerConfigError
from sessions.state import ReplayMismatch
from sessions.store import list_sessions
from sessions.verify import verdict_lines, verify_archive
from sessions.worktime import parse_limit
from tasks import TaskSpecError, UnknownTask
from tasks.spec import PROFILES
from tui.cli_context import CliError, Context, check_environment
from tui.opening import open_for_task
from tui.rescore_cli import add_rescore_parser, cmd_rescore
from tui.session_cli import cmd_session


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


def cmd_verify(ctx: Context) -> int:
    verdict = verify_archive(ctx.args.archive, ctx.catalog)
    if ctx.args.json:
        print(json.dumps({"archive": str(verdict.path), "ok": verdict.ok,
                          "checks": [{"name": c.name, "ok": c.ok, "ran": c.ran, "detail": c.detail} for c in verdict.checks],
                          "flags": [f.as_dict() for f in verdict.flags], "notes": verdict.notes}, indent=1))
    else:
        print("\n".join(verdict_lines(verdict)))
    return 0 if verdict.ok else 1


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
