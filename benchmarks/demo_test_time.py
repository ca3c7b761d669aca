"""How long one whole demo test of a task takes, through the engine.

For each task and each candidate region (the scaffold's own, or with
--baselines the default and every baseline of the task) it runs, in a
temporary sessions folder, what a person runs:

    mlsbench-tui session new --task T --profile demo
    mlsbench-tui session edit ...      (a baseline's region, when not the default)
    mlsbench-tui session test

and prints the wall time of each phase (session new, preflight, the settings,
the whole test) and of each setting, each setting's result, the CPU time each
driver used and the digest of its final weights (where the driver's last log
line gives them, as the vision drivers' does), and the machine's load
average before and after. With several candidates it prints the spread
between the best and the worst result per setting; with --repeat it says
whether the repeats gave bit-identical results (metrics lines and weights).

    .venv/bin/python benchmarks/demo_test_time.py                      # both CV tasks
    .venv/bin/python benchmarks/demo_test_time.py --task cv-multitask-loss --baselines
    .venv/bin/python benchmarks/demo_test_time.py --slots 1,2 --repeat 2   # alternate 1 and 2 slots

--slots runs each candidate once per listed slot count (MLSBENCH_SLOTS), in
turn, so that two variants are compared under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks.catalog import Catalog  # noqa: E402
from tasks.spec import TaskSpec  # noqa: E402

CV_TASKS = ("cv-multitask-loss", "dl-activation-function")
DONE_RE = re.compile(r"^done: .* the process ([\d.]+) s CPU; final weights sha256 (\w+)$", re.M)
METRICS_RE = re.compile(r"^TRAIN_METRICS.*$", re.M)


@dataclass
class SettingRun:
    label: str
    wall_s: float
    cpu_s: float | None
    results: dict[str, float]
    digest: str | None
    metrics_lines: list[str]


@dataclass
class TestRun:
    task: str
    candidate: str
    slots: str
    new_s: float
    preflight_s: float
    settings_s: float
    test_s: float
    cpu_s: float
    load_before: float
    load_after: float
    settings: list[SettingRun] = field(default_factory=list)

    def fingerprint(self) -> dict[str, tuple]:
        return {s.label: (s.digest, tuple(s.metrics_lines)) for s in self.settings}


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"mlsbench-tui {' '.join(args)} failed (exit {proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}")
    return proc


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stamp(entry: dict) -> float:
    return datetime.fromisoformat(entry["time"]).timestamp()


def run_test(task: TaskSpec, candidate: str, sessions_dir: Path, slots: str | None) -> TestRun:
    """One session with the candidate's region and one test; timings from the
    clock here and from the journal's event times."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if slots:
        env["MLSBENCH_SLOTS"] = slots
    common = ["--sessions-dir", str(sessions_dir)]
    load_before = os.getloadavg()[0]
    t0 = time.time()
    status = json.loads(cli(["session", "new", *common, "--task", task.id, "--profile", "demo",
                             "--json"], env).stdout)
    new_s = time.time() - t0
    session = ["--session", status["session"]]
    baseline = next((b for b in task.baselines if b.name == candidate), None)
    if baseline is not None and candidate != default_name(task):
        (start, end), = status["files"][baseline.target]
        region = sessions_dir / f"{candidate}.py"
        region.write_text(baseline.text, encoding="utf-8")
        cli(["session", "edit", *common, *session, "--file", baseline.target, "--start", str(start),
             "--end", str(end), "--content-file", str(region)], env)
    cpu0, t_test = children_cpu(), time.time()
    cli(["session", "test", *common, *session], env)
    test_s, cpu_s = time.time() - t_test, children_cpu() - cpu0
    session_dir = Path(status["dir"])
    journal = [json.loads(line) for line in (session_dir / "journal.jsonl").read_text().splitlines()]
    started = next(stamp(e) for e in journal if e["type"] == "test_started")
    finished = next(stamp(e) for e in journal if e["type"] == "run_finished")
    run = TestRun(task.id, candidate, slots or "engine default", new_s, started - t_test,
                  finished - started, test_s, cpu_s, load_before, os.getloadavg()[0])
    outcomes = json.loads((session_dir / "tests" / "1" / "results.json").read_text())["settings"]
    for label, outcome in outcomes.items():
        begin = next(stamp(e) for e in journal if e["type"] == "setting_started" and e["data"]["label"] == label)
        end = next(stamp(e) for e in journal if e["type"] == "setting_finished" and e["data"]["label"] == label)
        log = (session_dir / "tests" / "1" / f"{label}.log").read_text(errors="replace")
        if outcome["status"] != "done":
            raise SystemExit(f"{task.id} {candidate} {label}: the setting did not finish "
                             f"({outcome['status']}); its log ends:\n{log[-2000:]}")
        done = DONE_RE.search(log)  # the vision drivers' last line; other drivers have none
        results = {name: float(value) for name, value in (outcome["results"] or {}).items()}  # journaled as text
        run.settings.append(SettingRun(label, end - begin, float(done.group(1)) if done else None, results,
                                       done.group(2) if done else None, METRICS_RE.findall(log)))
    return run


def default_name(task: TaskSpec) -> str:
    """The baseline whose region is the scaffold's own (the first one listed)."""
    return task.baselines[0].name if task.baselines else "default"


def print_run(run: TestRun) -> None:
    print(f"{run.task}  {run.candidate}  slots={run.slots}  load {run.load_before:.1f} -> {run.load_after:.1f}")
    print(f"  session new        {run.new_s:6.1f} s")
    print(f"  preflight          {run.preflight_s:6.1f} s")
    for s in run.settings:
        values = " ".join(f"{k}={v:.2f}" for k, v in s.results.items())
        cpu = f"{s.cpu_s:6.1f} s CPU" if s.cpu_s is not None else "     - s CPU"
        print(f"  {s.label:<22} {s.wall_s:6.1f} s wall {cpu}  {values}  weights {s.digest or '-'}")
    print(f"  settings           {run.settings_s:6.1f} s")
    print(f"  whole test         {run.test_s:6.1f} s  (CPU of every process: {run.cpu_s:.1f} s)", flush=True)


def print_spread(runs: list[TestRun]) -> None:
    """Per result (one per setting for the CV tasks): the highest minus the
    lowest value over the candidates, and every candidate's value."""
    by_result: dict[str, dict[str, float]] = {}
    for run in runs:
        for s in run.settings:
            for name, value in s.results.items():
                by_result.setdefault(name, {})[run.candidate] = value
    for name, values in by_result.items():
        if len(values) < 2:
            continue
        listed = ", ".join(f"{k} {v:.2f}" for k, v in sorted(values.items(), key=lambda kv: -kv[1]))
        print(f"  {name}: spread {max(values.values()) - min(values.values()):.2f} ({listed})")


def print_repeatability(runs: list[TestRun]) -> None:
    groups: dict[tuple[str, str], list[TestRun]] = {}
    for run in runs:
        groups.setdefault((run.task, run.candidate), []).append(run)
    for (task, candidate), group in groups.items():
        if len(group) > 1:
            same = all(r.fingerprint() == group[0].fingerprint() for r in group[1:])
            digests = all(s.digest for r in group for s in r.settings)
            what = "every metrics line and the final weights" if digests else "every metrics line; no weights digest"
            print(f"  {task} {candidate}: {len(group)} runs, " + (f"identical ({what})" if same else "DIFFERENT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", help=f"task id (repeatable; default: {', '.join(CV_TASKS)})")
    parser.add_argument("--baselines", action="store_true", help="run the default and every baseline")
    parser.add_argument("--baseline", action="append", default=[], help="run this baseline (repeatable)")
    parser.add_argument("--slots", default="", help="comma list of slot counts to alternate (MLSBENCH_SLOTS)")
    parser.add_argument("--repeat", type=int, default=1, help="run each candidate this many times")
    args = parser.parse_args()
    catalog = Catalog()
    tasks = [catalog.get(t) for t in (args.task or CV_TASKS)]
    slot_variants = [s.strip() for s in args.slots.split(",") if s.strip()] or [None]
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    runs: list[TestRun] = []
    with tempfile.TemporaryDirectory(prefix="demo-test-time-") as tmp:
        for task in tasks:
            candidates = ([b.name for b in task.baselines] if args.baselines
                          else args.baseline or [default_name(task)])
            unknown = set(candidates) - {b.name for b in task.baselines} - {default_name(task)}
            if unknown:
                raise SystemExit(f"{task.id} has no baseline {', '.join(sorted(unknown))}; "
                                 f"its baselines: {', '.join(b.name for b in task.baselines)}")
            for _ in range(args.repeat):
                for candidate in candidates:
                    for slots in slot_variants:
                        folder = Path(tmp) / f"s{len(runs)}"
                        runs.append(run_test(task, candidate, folder, slots))
                        print_run(runs[-1])
    print("\nspread between the best and the worst candidate per setting:")
    print_spread(runs)
    print("repeatability:")
    print_repeatability(runs)


if __name__ == "__main__":
    main()
