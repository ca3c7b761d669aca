"""The metrics protocol: TRAIN_PLAN / TRAIN_METRICS / FINAL_METRICS lines.

Drivers print `TRAIN_METRICS: k=v ...` (the colon is optional) once per
epoch or run, `FINAL_METRICS k=v ...` at the end, and optionally
`TRAIN_PLAN unit=epoch total=200` to say what progress is counted in.
Values keep the text the driver printed, so results are reported exactly as
printed (93.01 stays 93.01, not 93.0100000001).

The lines travel on a channel the engine gives the driver: the runner's
wrapper opens `<label>.metrics` beside the setting's log on file descriptor
METRICS_FD and names it in METRICS_FD_ENV; the driver takes the descriptor and
removes the variable before the editable code is imported, writes each
metrics line there (and prints it to the log for people). Results are read
from that file only, so what the editable code prints is log text. Runs from
before the channel have no such file and their log is read instead.

Every reader of metrics rows (the engine, the app's curves, re-scoring,
replay) goes through `parse_line` and `train_rows` here.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from tasks.spec import MetricRule, Setting

KINDS = {"TRAIN_METRICS": "train", "FINAL_METRICS": "final", "TRAIN_PLAN": "plan"}
# Only lines containing one of these can be metrics lines (parse_line's first check); the
# engine looks for them in the raw bytes, so that plain log lines cost no Python work.
BYTE_NEEDLES = (b"METRICS", b"TRAIN_PLAN")
FEEDBACK_LINES = 5  # TRAIN_METRICS lines quoted in a test's feedback
METRICS_FD = 3  # the descriptor the runner's wrapper opens the metrics file on
METRICS_FD_ENV = "MLSBENCH_METRICS_FD"  # names it to the driver, which removes it at once
METRICS_SUFFIX = ".metrics"
_TRAIN_START = re.compile(r"(?=TRAIN_METRICS)")  # where a flattened transcript line holds several rows


class Value(NamedTuple):  # a NamedTuple: built per key per line, so it must be cheap
    number: float
    text: str


@dataclass(frozen=True)
class MetricsLine:
    kind: str  # train | final | plan
    values: dict[str, Value]


def _value(text: str) -> Value:
    try:
        return Value(float(text), text)
    except ValueError:
        return Value(math.nan, text)


def parse_line(line: str) -> MetricsLine | None:
    """Parse one log line; None for plain log text."""
    if "METRICS" not in line and "TRAIN_PLAN" not in line:  # BYTE_NEEDLES
        return None  # the common case, kept cheap
    stripped = line.strip()
    head, _, rest = stripped.partition(" ")
    kind = KINDS.get(head.rstrip(":"))
    if kind is None:
        return None
    values = {}
    for pair in rest.split():
        key, sep, text = pair.partition("=")
        if sep and key:
            values[key] = _value(text)
    return MetricsLine(kind, values)


def row_numbers(parsed: MetricsLine) -> dict[str, float]:
    """A parsed line's values as numbers, NaN (a value that is not a number) left out."""
    return {k: v.number for k, v in parsed.values.items() if not math.isnan(v.number)}


def train_rows(lines: Iterable[str]) -> Iterator[dict[str, float]]:
    """The TRAIN_METRICS rows among some lines, as numbers; several rows that a transcript
    flattened into one line are split apart; a row with no number is left out."""
    for line in lines:
        if "METRICS" not in line:
            continue
        for piece in _TRAIN_START.split(line):
            parsed = parse_line(piece)
            if parsed is not None and parsed.kind == "train" and (row := row_numbers(parsed)):
                yield row


def file_rows(path: Path) -> Iterator[dict[str, float]]:
    """The TRAIN_METRICS rows of a metrics file or log (none when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            yield from train_rows(raw.decode("utf-8", errors="replace") for raw in fh if b"METRICS" in raw)
    except OSError:
        return


def _better(direction: str, new: float, old: float) -> bool:
    if math.isnan(new):
        return False
    if math.isnan(old):
        return True
    return new > old if direction == "max" else new < old


@dataclass
class SettingMetrics:
    """Streams one setting's lines into what its result and feedback need.

    Memory stays bounded whatever the log length: the last few TRAIN_METRICS
    lines, the best/last value per key, and the final line.
    """

    rules: tuple[MetricRule, ...]
    setting: Setting
    recent: deque = field(default_factory=lambda: deque(maxlen=FEEDBACK_LINES))
    best: dict[str, Value] = field(default_factory=dict)
    last: dict[str, Value] = field(default_factory=dict)
    final: dict[str, Value] = field(default_factory=dict)
    final_line: str | None = None
    plan_unit: str | None = None
    plan_total: float | None = None
    train_count: int = 0

    def feed(self, line: str) -> MetricsLine | None:
        parsed = parse_line(line)
        if parsed is None:
            return None
        if parsed.kind == "train":
            self.train_count += 1
            self.recent.append(line.strip())
            for rule in self.rules:
                value = parsed.values.get(rule.key)
                if value is None:
                    continue
                old = self.best.get(rule.key)
                if old is None or _better(rule.direction, value.number, old.number):
                    self.best[rule.key] = value
            self.last.update(parsed.values)
        elif parsed.kind == "final":
            self.final.update(parsed.values)
            self.final_line = line.strip()
        else:
            unit, total = parsed.values.get("unit"), parsed.values.get("total")
            if unit is not None:
                self.plan_unit = unit.text
            if total is not None and not math.isnan(total.number):
                self.plan_total = total.number
        return parsed

    def progress(self) -> tuple[float, float] | None:
        """(done, total) in the driver's declared unit, when it declared one."""
        if self.plan_unit is None or self.plan_total is None:
            return None
        done = self.last.get(self.plan_unit)
        if done is None or math.isnan(done.number):
            return 0.0, self.plan_total
        return done.number, self.plan_total

    def results(self) -> dict[str, Value]:
        """The setting's named results, derived by the task's metric rules."""
        out = {}
        for rule in self.rules:
            if not rule.applies_to(self.setting.label):
                continue
            source = {"best_train": self.best, "last_train": self.last, "final": self.final}[rule.source]
            value = source.get(rule.key)
            if value is not None:
                out[rule.metric_name(self.setting)] = value
        return out
