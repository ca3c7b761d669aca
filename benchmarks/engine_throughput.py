"""Engine line throughput and peak memory.

Runs one test of a session whose fake driver prints 200,000 TRAIN_METRICS
lines over 3 settings (run in parallel), and prints how many lines per
second the engine parsed and delivered as events, and its peak memory.

    .venv/bin/python benchmarks/engine_throughput.py [--lines 200000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sessions.engine import Session  # noqa: E402
from sessions.events import LogLines  # noqa: E402
from tasks import load_task  # noqa: E402


def three_visible_settings(folder: Path) -> Path:
    """A copy of the fake task with its hidden setting made visible."""
    task_dir = folder / "fake-task"
    shutil.copytree(ROOT / "tests" / "fixtures" / "tasks" / "fake-task", task_dir)
    toml = task_dir / "task.toml"
    toml.write_text(toml.read_text().replace("hidden = true\n", ""))
    return task_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="TRAIN_METRICS lines in all")
    args = parser.parse_args()
    per_setting = args.lines // 3
    os.environ.update(FAKE_EPOCHS=str(per_setting), FAKE_SLEEP="0")
    with tempfile.TemporaryDirectory() as tmp:
        task = load_task(three_visible_settings(Path(tmp)))
        session = Session.create(task, sessions_dir=Path(tmp) / "sessions", profile="demo", slots=[{}, {}, {}])
        delivered = 0
        metrics = 0

        def count(event: object) -> None:
            nonlocal delivered, metrics
            if isinstance(event, LogLines):
                delivered += len(event.lines)
                metrics += len(event.metrics)

        session.subscribe(count)
        started = time.perf_counter()
        controller = session.start_test()
        run_started = time.perf_counter()
        controller.wait()
        elapsed = time.perf_counter() - run_started
        feedback = session.state.tests[0].feedback or ""
        session.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert metrics == per_setting * 3, (metrics, per_setting * 3)
    assert feedback.count("Final metrics") == 3
    print(f"settings: 3 in parallel, TRAIN_METRICS lines: {metrics}, log lines delivered: {delivered}")
    print(f"preflight + start: {run_started - started:.2f} s")
    print(f"run (drivers writing, engine tailing and parsing): {elapsed:.2f} s")
    print(f"engine throughput: {delivered / elapsed:,.0f} lines/s")
    print(f"engine peak memory (max RSS): {peak_mib:.1f} MiB")


if __name__ == "__main__":
    main()
