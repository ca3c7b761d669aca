"""Time printing a long agent replay end to end.

Generates a synthetic MLS-Bench agent conversation (JSON) of 10,000 steps on
a task whose scaffold is a 430-line file (a copy of the test fixture task
with a bigger driver), so every edit is re-applied to the scaffold and
printed as a diff; then times `format_replay(load_replay(...))` consumed
to the last line, and, once the CLI has it, `mlsbench-tui replay --print`
as a subprocess. Goal: under 2 s. Wall times depend on what else the
machine runs; the CPU seconds printed beside them do not, much.

    .venv/bin/python benchmarks/replay_print.py [--steps 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sessions.replay import format_replay, load_replay  # noqa: E402
from tasks import Catalog  # noqa: E402

TASK = "bench-replay-task"
START, END = 32, 49  # the scaffold's editable range
LABELS = ("resnet20-cifar10", "vgg16bn-cifar100")


def make_task(root: Path) -> Path:
    """A task folder like the fixture's, with a 430-line scaffold."""
    src = ROOT / "tests" / "fixtures" / "tasks" / "fake-task"
    folder = root / TASK
    shutil.copytree(src, folder)
    lines = [f"# fixed line {i}: some fixed code of the scaffold = {i * 7}" for i in range(1, 431)]
    for i in range(START, END + 1):
        lines[i - 1] = f"    editable_{i} = {i}  # default"
    (folder / "scaffold.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    toml = (folder / "task.toml").read_text(encoding="utf-8")
    toml = toml.replace('id = "fake-task"', f'id = "{TASK}"')
    toml = toml.replace('source = "fake_driver.py"', 'source = "scaffold.py"')
    toml = toml.replace("editable = [[14, 16]]", f"editable = [[{START}, {END}]]")
    toml = toml.replace('path = "fake/fake_driver.py"', 'path = "pytorch-vision/custom_activation.py"')
    (folder / "task.toml").write_text(toml, encoding="utf-8")
    return root


def test_result(n: int, rng: random.Random) -> str:
    out = [f"[Test #{n}] ({max(0, 3 - n)} tests remaining; call submit(n=N) to choose which test result to submit as final)"]
    board = {}
    for label in LABELS:
        out += ["", f"### {label} (scripts/{label.replace('-', '_')}.sh)", "Training progress (last epochs):"]
        acc = 0.0
        for epoch in range(160, 201, 10):
            acc = 60 + rng.random() * 30
            out.append(
                f"TRAIN_METRICS: epoch={epoch} train_loss={rng.random():.4f} train_acc={acc + 5:.2f} "
                f"test_loss={rng.random():.4f} test_acc={acc:.2f} lr=0.001000"
            )
        out.append(f"Final metrics ({label}): test_acc_{label}={acc:.2f}")
        board[f"test_acc_{label}"] = round(acc, 2)
    out += ["", f"[Leaderboard] Results saved: {json.dumps(board)}"]
    return "\n".join(out)


def conversation(steps: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    messages = [{"step": 0, "role": "user", "content": f"Task: {TASK}\n\nDesign something.", "content_truncated": False}]
    end, tests, ends = END, 0, []  # ends: the range end before each undoable edit
    for step in range(1, steps):
        kind = "submit" if step == steps - 1 else rng.choice(["edit", "edit", "edit", "small", "test", "undo"])
        if kind == "undo" and not ends:
            kind = "edit"
        if kind == "test" and tests == 0 and step < 3:
            kind = "edit"
        thinking = f"Step {step}: I think the next thing to try is a {kind}.\nIt should help the accuracy."
        msg = {"step": step, "role": "assistant", "thinking": thinking, "tool_name": kind if kind != "small" else "edit"}
        if kind == "edit":
            n = rng.randint(12, 24)
            content = "".join(f"    value_{step}_{i} = {rng.random():.6f}\n" for i in range(n))
            msg["tool_input"] = {"op": "replace", "filename": "pytorch-vision/custom_activation.py",
                                 "start_line": START, "end_line": end, "content": content}
            result = f"OK: Replaced lines {START}..{end} with {n} line(s) in pytorch-vision/custom_activation.py. Editable range: {START}–{START + n - 1}."
            ends.append(end)
            end = START + n - 1
        elif kind == "small":
            line = rng.randint(START, end)
            msg["tool_input"] = {"op": "replace", "filename": "pytorch-vision/custom_activation.py",
                                 "start_line": line, "end_line": line, "content": f"    tweak_{step} = {rng.random():.4f}\n"}
            result = f"OK: Replaced lines {line}..{line} with 1 line(s) in pytorch-vision/custom_activation.py. Editable range: {START}–{end}."
            ends.append(end)
        elif kind == "undo":
            msg["tool_input"] = {"n": 1}
            result = "Undo complete:\nRestored: pytorch-vision/custom_activation.py"
            end = ends.pop()
        elif kind == "test":
            tests += 1
            result = test_result(tests, rng)
        else:
            msg["tool_input"] = {"n": max(1, tests)}
            result = f"[submit] Submitting result from test #{max(1, tests)} as final.\n\n" + test_result(max(1, tests), rng).split("\n", 1)[1]
        messages.append(msg)
        messages.append({"step": step, "role": "tool_result", "result": result})
    return {"task_id": TASK, "model": "synthetic-agent", "model_slug": "synthetic", "total_steps": steps,
            "messages": messages, "file_snapshots": []}


SCRIPT = (
    "import sys; from pathlib import Path; from tasks import Catalog; "
    "from sessions.replay import load_replay, write_replay; "
    "write_replay(load_replay(Path(sys.argv[1]), Catalog([Path(sys.argv[2])])).replay)"
)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_subprocess(path: Path, tasks_dir: Path) -> float:
    """A fresh interpreter: imports, load, format, and writing every line to a pipe."""
    c0, t0 = _child_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(tasks_dir)], capture_output=True, cwd=ROOT)
    took, cpu = time.perf_counter() - t0, _child_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode("utf-8", "replace"))
    lines = proc.stdout.count(b"\n")
    print(f"subprocess (python -c load_replay + write_replay to a pipe): {took:.2f} s (CPU {cpu:.2f} s, {lines} lines)")
    return took


def time_cli(path: Path, tasks_dir: Path) -> float | None:
    exe = Path(sys.executable).parent / "mlsbench-tui"
    if not exe.exists():
        print("CLI: mlsbench-tui is not installed in this environment; skipped")
        return None
    env = dict(os.environ, MLSBENCH_TASKS=str(tasks_dir))
    c0, t0 = _child_cpu(), time.perf_counter()
    proc = subprocess.run([str(exe), "replay", "--print", str(path)], capture_output=True, env=env)
    took, cpu = time.perf_counter() - t0, _child_cpu() - c0
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["(no output)"]
        print(f"CLI: `mlsbench-tui replay --print` is not available yet (exit {proc.returncode}: {tail[0]}); skipped")
        return None
    lines = proc.stdout.count(b"\n")
    print(f"CLI: mlsbench-tui replay --print: {took:.2f} s (CPU {cpu:.2f} s, {lines} lines)")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the conversation and task here and keep them")
    parser.add_argument("--no-cli", action="store_true", help="time the functions only, not `mlsbench-tui replay --print`")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="replay-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        tasks_dir = make_task(work / "tasks") if not (work / "tasks" / TASK).exists() else work / "tasks"
        path = work / "conversation.json"
        path.write_text(json.dumps(conversation(args.steps)), encoding="utf-8")
        size = path.stat().st_size / 1e6
        catalog = Catalog([tasks_dir])
        c0, t0 = time.process_time(), time.perf_counter()
        result = load_replay(path, catalog)
        t1 = time.perf_counter()
        lines = sum(1 for _ in format_replay(result.replay))
        c2, t2 = time.process_time(), time.perf_counter()
        counts = result.replay.counts()
        print(
            f"{args.steps} agent steps ({size:.1f} MB JSON) -> {len(result.replay.steps)} replay steps "
            f"({counts['edit']} edits, {counts['undo']} undos, {counts['test']} tests), {lines} lines printed"
        )
        applied = sum(1 for s in result.replay.of_kind("edit") if s.applied)
        print(f"edits re-applied to the scaffold: {applied}/{counts['edit']}; skipped reasons: {len(result.skipped)}")
        print(f"in process: load_replay {t1 - t0:.2f} s + format_replay {t2 - t1:.2f} s = total: {t2 - t0:.2f} s "
              f"(CPU {c2 - c0:.2f} s)")
        time_subprocess(path, tasks_dir)
        if not args.no_cli:
            time_cli(path, tasks_dir)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
