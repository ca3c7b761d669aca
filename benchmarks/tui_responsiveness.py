"""How responsive the app stays while every setting streams log lines as fast as it can.

    .venv/bin/python benchmarks/tui_responsiveness.py [--spam 5000] [--sleep 0.01] [--samples 60]

The app runs in a pseudo-terminal exactly as a person starts it (`python -m tui.cli ...`),
on a copy of the fake task whose three settings are all visible and run at once
(MLSBENCH_SLOTS=3), each printing FAKE_SPAM lines per epoch with FAKE_SLEEP between
epochs. It measures:

- cold start: from spawning the process to the first screen (the budget counter drawn);
- key latency: from writing a key to the terminal to the typed character appearing in
  the terminal's output (the editor re-rendered), p50/p95, idle and while streaming
  (keys 150-350 ms apart, and the log lines drawn meanwhile are counted, to show the
  stream keeps being drawn while the person types);
- memory: the app process's resident set (VmRSS) sampled while streaming, and its peak
  (VmHWM): the log views read the logs from disk and keep only a line index (8 bytes
  a line of the log on screen), so it grows slowly with the log, never with a copy of it.

Goals: p95 < 100 ms while streaming, flat memory, start < 1.5 s.
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import json
import os
import pty
import random
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_TASK = ROOT / "tests" / "fixtures" / "tasks" / "fake-task"
FIRST_SCREEN = "of 3 left".encode()
# Characters that appear nowhere else on screen: each key press types a new one.
MARKERS = [chr(c) for c in range(0x391, 0x3AA) if c != 0x3A2] + [chr(c) for c in range(0x410, 0x430)] + [
    chr(c) for c in range(0x531, 0x557)
] + [chr(c) for c in range(0x10D0, 0x10F1)]


class Terminal:
    """The app in a pseudo-terminal of a given size; output is collected by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int, rows: int):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.buffer = bytearray()
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.cond.notify_all()
                    return
                self.buffer += chunk
                self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.buffer)

    def wait_for(self, needle: bytes, since: int = 0, timeout: float = 30.0) -> float:
        """Seconds (perf_counter) when `needle` first appeared in the output after `since`."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                # search from a little before `since`: the needle may straddle chunks
                found = self.buffer.find(needle, max(0, since))
                if found >= 0:
                    return time.perf_counter()
                left = deadline - time.perf_counter()
                if left <= 0 or self.proc.poll() is not None:
                    if os.environ.get("BENCH_DUMP"):
                        Path(os.environ["BENCH_DUMP"]).write_bytes(bytes(self.buffer))
                    tail = bytes(self.buffer[-2000:]).decode("utf-8", "replace")
                    raise TimeoutError(f"{needle!r} did not appear; output tail:\n{tail}")
                self.cond.wait(min(left, 0.05))

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def rss_kb(self) -> tuple[int, int]:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        return rss, hwm

    def close(self, timeout: float = 40.0) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        try:
            os.close(self.master)
        except OSError:
            pass


def make_task(root: Path) -> Path:
    """A copy of the fake task with all three settings visible."""
    target = root / "tasks" / "fake-task"
    shutil.copytree(FAKE_TASK, target)
    toml = target / "task.toml"
    toml.write_text(toml.read_text().replace("hidden = true\n", ""))
    return target.parent


def app_argv(tasks: Path, sessions: Path) -> list[str]:
    return [sys.executable, "-m", "tui.cli", "--tasks-dir", str(tasks), "--task", "fake-task",
            "--profile", "demo", "--sessions-dir", str(sessions), "--new"]


def app_env(args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", MLSBENCH_SLOTS="3", FAKE_EPOCHS=str(args.epochs),
               FAKE_SPAM=str(args.spam), FAKE_SLEEP=str(args.sleep), PYTHONUNBUFFERED="1")
    env.pop("FAKE_SLOW_LABEL", None)
    env.pop("EDITOR", None)
    return env


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def key_latencies(term: Terminal, markers: list[str], gap: tuple[float, float]) -> list[float]:
    out = []
    for char in markers:
        data = char.encode()
        since = term.mark()
        t0 = time.perf_counter()
        term.send(data)
        t1 = term.wait_for(data, since, timeout=10)
        out.append((t1 - t0) * 1000)
        time.sleep(random.uniform(*gap))
    return out


def type_text(term: Terminal, text: str) -> None:
    for char in text:
        term.send(char.encode())
        time.sleep(0.03)
    time.sleep(0.2)


def cold_start(args, tasks: Path, sessions: Path) -> float:
    term = Terminal(app_argv(tasks, sessions), app_env(args), args.cols, args.rows)
    try:
        seen = term.wait_for(FIRST_SCREEN, 0, timeout=60)
        return seen - term.started
    finally:
        term.send(b"\x11")  # ctrl+q: nothing runs yet, so it quits at once
        term.close()


def kill_jobs(sessions: Path) -> None:
    """Stop training processes still running (their process groups, from the journals)."""
    for journal in sessions.glob("*/*/journal.jsonl"):
        for line in journal.read_text().splitlines():
            entry = json.loads(line)
            if entry["type"] == "setting_started":
                try:
                    os.killpg(int(entry["data"]["job_id"]), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spam", type=int, default=5000, help="extra log lines per epoch and setting")
    parser.add_argument("--sleep", type=float, default=0.01, help="seconds between epochs")
    parser.add_argument("--epochs", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=60, help="key presses while streaming")
    parser.add_argument("--idle-samples", type=int, default=20)
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    parser.add_argument("--stream-seconds", type=float, default=20.0, help="streaming time before the key samples")
    parser.add_argument("--cols", type=int, default=160)
    parser.add_argument("--rows", type=int, default=48)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--control", action="store_true",
                        help="also time keys with 3 CPU-burning processes that stream nothing "
                             "(the share of the latency that is CPU contention, not the app's work)")
    args = parser.parse_args()
    random.seed(7)

    tmp = Path(tempfile.mkdtemp(prefix="mlsbench-tui-bench-"))
    tasks, sessions = make_task(tmp), tmp / "sessions"
    report: dict[str, object] = {"machine": f"{os.cpu_count()} cpus", "size": f"{args.cols}x{args.rows}",
                                 "spam_lines_per_epoch": args.spam, "sleep_per_epoch": args.sleep}
    try:
        starts = [cold_start(args, tasks, sessions) for _ in range(args.starts)]
        report["cold_start_s"] = {"each": [round(s, 3) for s in starts], "median": round(statistics.median(starts), 3)}

        term = Terminal(app_argv(tasks, sessions), app_env(args), args.cols, args.rows)
        try:
            term.wait_for(FIRST_SCREEN, 0, timeout=60)
            time.sleep(1.0)
            # The cursor starts at column 0 of the first editable line. The measured characters
            # are typed into a comment on a line of their own, so the code stays valid (the test
            # dialog saves it): "A = 0  # <markers>" then Enter.
            type_text(term, "A = 0  # ")
            markers = iter(MARKERS)
            idle = key_latencies(term, [next(markers) for _ in range(args.idle_samples)], (0.05, 0.12))
            type_text(term, "\r")
            rss_idle, _ = term.rss_kb()
            if args.control:
                burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
                try:
                    time.sleep(1.0)
                    type_text(term, "C = 0  # ")
                    control = key_latencies(term, [next(markers) for _ in range(args.idle_samples)], (0.15, 0.35))
                    type_text(term, "\r")
                finally:
                    for proc in burners:
                        proc.kill()
                        proc.wait()
                report["key_latency_ms_cpu_contention_only"] = {
                    "p50": round(percentile(control, 50), 1), "p95": round(percentile(control, 95), 1),
                    "n": len(control)}

            since = term.mark()
            term.send(b"\x1b[15~")  # F5: run a test
            term.wait_for("Run test #1?".encode(), since)
            time.sleep(0.3)
            since = term.mark()
            term.send(b"\r")  # confirm
            term.wait_for(b"nothing to see", since, timeout=60)  # the spam lines stream in
            type_text(term, "B = 0  # ")
            samples: list[tuple[float, int]] = []
            t_stream = time.perf_counter()
            while time.perf_counter() - t_stream < args.stream_seconds:
                samples.append((time.perf_counter() - t_stream, term.rss_kb()[0]))
                time.sleep(0.5)
            busy = []
            remaining = list(itertools.islice(markers, args.samples))  # fewer if the markers run out
            sampling_from, t_sampling = term.mark(), time.perf_counter()
            for char in remaining:
                busy.extend(key_latencies(term, [char], (0.15, 0.35)))
                samples.append((time.perf_counter() - t_stream, term.rss_kb()[0]))
            # The stream must keep being drawn between the keys: count log lines drawn meanwhile.
            with term.cond:
                drawn = bytes(term.buffer[sampling_from:]).count(b"nothing to see")
            report["log_lines_drawn_per_s_while_typing"] = round(drawn / (time.perf_counter() - t_sampling))
            streamed = time.perf_counter() - t_stream
            rss_end, hwm = term.rss_kb()
            lines = 0
            for log in sessions.glob("fake-task/*/tests/1/*.log"):
                with open(log, "rb") as fh:
                    lines += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            half = len(samples) // 2
            first = statistics.mean(r for _, r in samples[:half]) if half else 0
            second = statistics.mean(r for _, r in samples[half:]) if half else 0
            report["key_latency_ms_idle"] = {"p50": round(percentile(idle, 50), 1), "p95": round(percentile(idle, 95), 1),
                                             "n": len(idle)}
            report["key_latency_ms_streaming"] = {"p50": round(percentile(busy, 50), 1),
                                                  "p95": round(percentile(busy, 95), 1),
                                                  "max": round(max(busy), 1), "n": len(busy),
                                                  "p50_first_half": round(percentile(busy[: len(busy) // 2], 50), 1),
                                                  "p50_second_half": round(percentile(busy[len(busy) // 2 :], 50), 1)}
            report["streamed"] = {"seconds": round(streamed, 1), "log_lines": lines,
                                  "lines_per_second": round(lines / streamed)}
            report["memory_mb"] = {"idle": round(rss_idle / 1024, 1), "first_half_mean": round(first / 1024, 1),
                                   "second_half_mean": round(second / 1024, 1), "end": round(rss_end / 1024, 1),
                                   "peak_hwm": round(hwm / 1024, 1)}
            # quit: the typed lines are unsaved (quit without them), then the dialog asks
            # what to do with the running test; cancel it
            since = term.mark()
            term.send(b"\x11")
            term.wait_for(b"Unsaved changes", since, timeout=20)
            since = term.mark()
            term.send(b"d")
            term.wait_for(b"still running", since, timeout=20)
            term.send(b"c")
        finally:
            term.close()
    finally:
        kill_jobs(sessions)
        shutil.rmtree(tmp, ignore_errors=True)

    cold, idle, busy, mem = (report["cold_start_s"], report["key_latency_ms_idle"],
                             report["key_latency_ms_streaming"], report["memory_mb"])
    print(f"mlsbench-tui responsiveness ({report['machine']}, terminal {report['size']}, 3 settings streaming,"
          f" FAKE_SPAM={args.spam}, FAKE_SLEEP={args.sleep})")
    print(f"  cold start to first screen: median {cold['median']:.2f} s  (each: {cold['each']}; goal < 1.5 s)")
    print(f"  key -> screen, idle:        p50 {idle['p50']:.1f} ms  p95 {idle['p95']:.1f} ms  (n={idle['n']})")
    print(f"  key -> screen, streaming:   p50 {busy['p50']:.1f} ms  p95 {busy['p95']:.1f} ms  max {busy['max']:.1f} ms"
          f"  (n={busy['n']}; goal p95 < 100 ms; p50 first/second half {busy['p50_first_half']:.0f}/"
          f"{busy['p50_second_half']:.0f} ms)")
    if "key_latency_ms_cpu_contention_only" in report:
        c = report["key_latency_ms_cpu_contention_only"]
        print(f"  key -> screen, 3 CPU burners, no stream (control): p50 {c['p50']:.1f} ms  p95 {c['p95']:.1f} ms"
              f"  (n={c['n']})")
    print(f"  log lines drawn on screen per second during the key samples: "
          f"{report['log_lines_drawn_per_s_while_typing']} (the stream keeps being shown)")
    s = report["streamed"]
    print(f"  streamed: {s['log_lines']:,} log lines in {s['seconds']} s ({s['lines_per_second']:,} lines/s, all on disk)")
    print(f"  memory (RSS): idle {mem['idle']} MB, streaming first half {mem['first_half_mean']} MB, second half "
          f"{mem['second_half_mean']} MB, end {mem['end']} MB, peak {mem['peak_hwm']} MB")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
