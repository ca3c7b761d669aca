"""Reading a test's (or a submission's) output text back into results.

The text is what an agent saw (sessions/feedback.py writes the same form):

    [Test #2] (1 test remaining; call submit(n=N) to ...)

    ### resnet20-cifar10 (scripts/resnet20_cifar10.sh)
    Training progress (last epochs):
    TRAIN_METRICS: epoch=200 ... test_acc=92.87 lr=0.000000
    Final metrics (resnet20-cifar10): test_acc_resnet20-cifar10=93.01

    ### vgg16bn-cifar100 (scripts/vgg16bn_cifar100.sh)
    [COMMAND FAILED exit=1]
    Traceback ...

    [Leaderboard] Results saved: {"test_acc_resnet20-cifar10": 93.01, ...}

A test run on several seeds holds one `## Seed N` section per seed, each
with the settings' sections; a setting's metrics are then the mean over
the seeds, and its `seeds` keep each seed's values.

Transcripts may have it flattened onto one line, or cut anywhere; whatever
can be read is read, and a setting whose result is not in the text is
marked incomplete rather than guessed.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

from sessions.events import CANCELLED, DONE, FAILED, LOST
from sessions.replay.model import INCOMPLETE, MISSING, UNKNOWN, SettingResult
from tasks.spec import Setting, TaskSpec

TEST_HEADER = re.compile(r"\[Test #(\d+)\]")
REMAINING = re.compile(r"\((\d+) tests? remaining")
SUBMIT_HEADER = re.compile(r"\[submit\][^\n#]{0,80}?test #(\d+)")
BLOCK = re.compile(r"### (\S+) \(([^()\n]{0,200})\)")
FINAL_NAMED = re.compile(r"Final metrics \(([^)\n]*)\):")
FINAL_RAW = re.compile(r"FINAL_METRICS:?(?=\s)")
TRAIN = re.compile(r"TRAIN_METRICS:?(?=\s)")
FAILED_MARK = re.compile(r"\[COMMAND FAILED exit=(-?\d+)\]")
NOT_FOUND = re.compile(r"\[output file not found[^\]]*\]")
LEADERBOARD = re.compile(r"\[Leaderboard\][^\n{]*?(\{)")
AUTO_SUBMIT = re.compile(r"\[auto-submit\]([^\n#]{0,120}?test #(\d+))?")
SEED = re.compile(r"(?:^|(?<=\s))## Seed (\S+)")


def pairs(text: str) -> dict[str, str]:
    """The key=value pairs at the start of `text`, up to the first other word."""
    out: dict[str, str] = {}
    for token in text.split():
        key, sep, value = token.partition("=")
        if not sep or not key or not value:
            break
        out[key] = value
    return out


def _line_from(text: str, start: int, limit: int = 8000) -> str:
    end = text.find("\n", start)
    return text[start : end if 0 <= end < start + limit else start + limit]


def read_test_number(text: str) -> int | None:
    m = TEST_HEADER.search(text[:400])
    return int(m.group(1)) if m else None


def submit_number(text: str) -> int | None:
    m = SUBMIT_HEADER.search(text[:400])
    return int(m.group(1)) if m else None


def auto_submit_at(text: str) -> tuple[int, int | None] | None:
    """Where an `[auto-submit]` marker starts, and the test it names (if it names one)."""
    m = AUTO_SUBMIT.search(text)
    if m is None:
        return None
    return m.start(), (int(m.group(2)) if m.group(2) else None)


def has_setting_output(text: str) -> bool:
    """Whether the text holds a setting's section (`### label (script)`): a test's output."""
    return bool(_blocks(text))


def remaining(text: str) -> int | None:
    m = REMAINING.search(text[:400])
    return int(m.group(1)) if m else None


@dataclass
class ParsedRun:
    settings: list[SettingResult] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # leaderboard results tied to no setting
    leaderboard: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        statuses = [s.status for s in self.settings]
        if not statuses:
            return UNKNOWN
        if all(s == DONE for s in statuses):
            return DONE
        if any(s == CANCELLED for s in statuses):
            return CANCELLED
        bad = any(s in (FAILED, LOST, MISSING) for s in statuses)
        if bad:
            return "partial" if DONE in statuses else FAILED
        return INCOMPLETE

    def results(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s in self.settings:
            out.update(s.metrics)
        out.update(self.extra)
        return out


def _setting(task: TaskSpec | None, label: str) -> Setting | None:
    if task is None:
        return None
    try:
        return task.setting(label)
    except KeyError:
        return None


def name_final_values(task: TaskSpec | None, label: str, values: dict[str, str]) -> dict[str, str]:
    """Named results from a setting's FINAL_METRICS pairs.

    With the task known, its metric rules name them (only the metrics the
    task reports); without it every pair is kept as `<key>_<label_snake>`,
    the convention of the published bilevel results.
    """
    setting = _setting(task, label)
    if task is not None and setting is not None:
        out = {}
        for rule in task.metrics:
            if rule.source == "final" and rule.applies_to(label) and rule.key in values:
                out[rule.metric_name(setting)] = values[rule.key]
        return out
    snake = label.replace("-", "_")
    return {f"{key}_{snake}": value for key, value in values.items()}


def parse_block(label: str, script: str | None, body: str, task: TaskSpec | None, ends_text: bool) -> SettingResult:
    result = SettingResult(label, script=script, output=body.strip("\n"))
    setting = _setting(task, label)
    result.hidden = bool(setting and setting.hidden)
    failed = FAILED_MARK.search(body) if "[COMMAND FAILED" in body else None
    if failed:
        result.status, result.exit_code = FAILED, int(failed.group(1))
        return result
    if "[CANCELLED]" in body:
        result.status = CANCELLED
        return result
    if "[LOST]" in body:
        result.status = LOST
        return result
    at = body.rfind("Final metrics (")
    named = FINAL_NAMED.match(body, at) if at >= 0 else None
    if named:
        result.metrics = pairs(_line_from(body, named.end()))
    at = body.rfind("FINAL_METRICS")
    raw = FINAL_RAW.match(body, at) if at >= 0 else None
    if raw is not None:
        values = pairs(_line_from(body, raw.end()))
        result.values = values
        if not result.metrics:
            result.metrics = name_final_values(task, label, values)
    if not result.values:
        at = body.rfind("TRAIN_METRICS")
        last_train = TRAIN.match(body, at) if at >= 0 else None
        if last_train is not None:
            result.values = pairs(_line_from(body, last_train.end()))
    if result.metrics or named or raw is not None or "[NO METRICS]" in body:
        result.status = DONE
    elif NOT_FOUND.search(body):
        result.status, result.detail = MISSING, NOT_FOUND.search(body).group(0).strip("[]")
    else:
        result.status = INCOMPLETE if ends_text else UNKNOWN
    return result


def _leaderboard(text: str) -> tuple[dict[str, str], int | None]:
    """The `[Leaderboard] Results saved: {...}` pairs, and where the line starts."""
    at = text.rfind("[Leaderboard]")
    m = LEADERBOARD.match(text, at) if at >= 0 else None
    if not m:
        return {}, None
    start = m.start(1)
    try:
        obj, _ = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        end = text.find("}", start)
        if end < 0:
            return {}, m.start()
        try:
            obj = ast.literal_eval(text[start : end + 1])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return {}, m.start()
    if not isinstance(obj, dict):
        return {}, m.start()
    flat: dict[str, str] = {}
    for key, value in obj.items():
        if isinstance(value, dict):  # {label: {metric: value}}
            for k, v in value.items():
                if not isinstance(v, (dict, list)):
                    flat[str(k)] = _text(v)
        elif not isinstance(value, list):
            flat[str(key)] = _text(value)
    return flat, m.start()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _blocks(text: str) -> list[re.Match]:
    """The `### label (script)` headers, at a line start or after a space (flattened text)."""
    out, pos = [], text.find("### ")
    while pos >= 0:
        if pos == 0 or text[pos - 1].isspace():
            m = BLOCK.match(text, pos)
            if m is not None:
                out.append(m)
        pos = text.find("### ", pos + 4)
    return out


def _settings(body_text: str, task: TaskSpec | None, ends_text: bool) -> list[SettingResult]:
    blocks = _blocks(body_text)
    out = []
    for i, m in enumerate(blocks):
        end = blocks[i + 1].start() if i + 1 < len(blocks) else len(body_text)
        last = i + 1 == len(blocks)
        out.append(parse_block(m.group(1), m.group(2) or None, body_text[m.end() : end], task, last and ends_text))
    return out


def _seed_sections(text: str) -> list[tuple[str, str]]:
    """(seed, its text) for each `## Seed N` section; [] when the text has none."""
    if "## Seed " not in text:  # the common case, without the regex's scan of every position
        return []
    marks = list(SEED.finditer(text))
    return [(m.group(1), text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)])
            for i, m in enumerate(marks)]


def _mean(values: list[str]) -> str:
    """The mean of printed numbers, with as many decimals as the most precise of them."""
    numbers = [_number(v) for v in values]
    if any(x is None for x in numbers):
        return values[-1]
    places = max((len(v.split(".", 1)[1]) if "." in v else 0) for v in values)
    return f"{sum(numbers) / len(numbers):.{places}f}"  # type: ignore[arg-type]


def _merge_seeds(per_seed: list[tuple[str, list[SettingResult]]]) -> list[SettingResult]:
    """One result per setting: the mean of each metric every seed reported, and each seed's values."""
    by_label: dict[str, list[tuple[str, SettingResult]]] = {}
    for seed, settings in per_seed:
        for s in settings:
            by_label.setdefault(s.label, []).append((seed, s))
    seeds = [seed for seed, _ in per_seed]
    out = []
    for label, runs in by_label.items():
        first = runs[0][1]
        merged = SettingResult(label, script=first.script, hidden=first.hidden)
        merged.seeds = {seed: dict(s.metrics) for seed, s in runs}
        merged.output = "\n\n".join(f"## Seed {seed}\n{s.output}" for seed, s in runs)
        statuses = [s.status for _, s in runs]
        bad = next((st for st in statuses if st in (FAILED, CANCELLED, LOST, MISSING)), None)
        if len(runs) == len(seeds) and all(st == DONE for st in statuses):
            merged.status = DONE
        else:
            merged.status = bad or INCOMPLETE
        failed = next((s for _, s in runs if s.status == FAILED), None)
        if failed is not None:
            merged.exit_code, merged.detail = failed.exit_code, failed.detail
        names = [k for k in first.metrics if all(k in s.metrics for _, s in runs)]
        if len(runs) == len(seeds):
            merged.metrics = {k: _mean([s.metrics[k] for _, s in runs]) for k in names}
        out.append(merged)
    return out


def parse_run_output(text: str, task: TaskSpec | None = None) -> ParsedRun:
    """Per-setting results of one test's or submission's output text."""
    parsed = ParsedRun()
    board, board_at = _leaderboard(text)
    body_text = text if board_at is None else text[:board_at]
    sections = _seed_sections(body_text)
    if sections:
        per_seed = [(seed, _settings(part, task, board_at is None and i + 1 == len(sections)))
                    for i, (seed, part) in enumerate(sections)]
        parsed.settings = _merge_seeds(per_seed)
    else:
        parsed.settings = _settings(body_text, task, board_at is None)
    if board:
        parsed.leaderboard = board
        by_label = {s.label: s for s in parsed.settings}
        for name, value in board.items():
            owner = next(
                (s for label, s in by_label.items()
                 if name.endswith(label) or name.endswith(label.replace("-", "_"))),
                None,
            )
            if owner is not None:
                printed = owner.metrics.get(name)
                if printed is None and not owner.seeds:
                    owner.metrics[name] = value
                elif printed is not None and _number(printed) != _number(value):
                    shown = "the mean over the seeds is" if owner.seeds else "printed"
                    parsed.notes.append(f"{name}: {shown} {printed}, saved to the leaderboard as {value}")
                    if not owner.seeds:
                        owner.metrics[name] = value
                if owner.status in (UNKNOWN, INCOMPLETE) and not owner.seeds:
                    owner.status = DONE
            else:
                parsed.extra[name] = value
    if not parsed.settings and text.strip():
        parsed.notes.append("no per-setting output could be read from the result text")
    return parsed
