"""Task specs: `task.toml` + `description.md` + `baselines/` + `reference.json`.

Loaded and validated into typed, frozen objects. A broken spec raises
TaskSpecError naming the file, the field and the reason.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PROFILES = ("paper", "quick", "demo")
DIRECTIONS = ("max", "min")
METRIC_SOURCES = ("best_train", "last_train", "final")
PLACEHOLDERS = ("python", "seed", "profile", "data_root")


@dataclass(frozen=True)
class LineRange:
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end and start <= end + 1

    def __str__(self) -> str:
        if self.length == 0:
            return f"(empty, at line {self.start})"
        return f"{self.start}-{self.end}"


class TaskSpecError(ValueError):
    def __init__(self, file: Path, field_name: str, reason: str):
        self.file, self.field_name, self.reason = file, field_name, reason
        super().__init__(f"{file}: {field_name}: {reason}")


@dataclass(frozen=True)
class TaskFile:
    path: str  # where it lives in a workspace (the published path)
    source: Path  # the scaffold it is copied from
    editable: tuple[LineRange, ...]

    @property
    def is_editable(self) -> bool:
        return bool(self.editable)


@dataclass(frozen=True)
class Setting:
    label: str
    command: str
    hidden: bool = False

    @property
    def label_snake(self) -> str:
        return self.label.replace("-", "_")


@dataclass(frozen=True)
class MetricRule:
    key: str
    source: str  # best_train | last_train | final
    name: str  # template: {key} {label} {label_snake}
    direction: str  # max | min
    settings: tuple[str, ...] = ()  # empty: every setting
    primary: bool = True

    def applies_to(self, label: str) -> bool:
        return not self.settings or label in self.settings

    def metric_name(self, setting: Setting) -> str:
        return self.name.format(
            key=self.key, label=setting.label, label_snake=setting.label_snake
        )


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    comparable: bool  # results may be compared with published ones
    plan: str = ""  # what a run trains, in a few words ("4 epochs on 1,536 generated images, lr 0.025")


@dataclass(frozen=True)
class Baseline:
    name: str
    title: str
    path: Path  # the editable region's text for this baseline
    target: str  # workspace path of the file whose first range it fills

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Reference:
    """Published results: rows of {entry, seed, <metric>: value}."""

    source: str
    directions: dict[str, str]
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class TaskSpec:
    id: str
    title: str
    area: str
    folder: Path
    description_path: Path
    test_budget: int
    default_seed: int
    files: tuple[TaskFile, ...]
    settings: tuple[Setting, ...]
    metrics: tuple[MetricRule, ...]
    profiles: dict[str, Profile]
    baselines: tuple[Baseline, ...]
    reference: Reference | None = field(default=None)

    @property
    def description(self) -> str:
        return self.description_path.read_text(encoding="utf-8")

    @property
    def visible_settings(self) -> tuple[Setting, ...]:
        return tuple(s for s in self.settings if not s.hidden)

    @property
    def hidden_settings(self) -> tuple[Setting, ...]:
        return tuple(s for s in self.settings if s.hidden)

    @property
    def editable_files(self) -> tuple[TaskFile, ...]:
        return tuple(f for f in self.files if f.is_editable)

    def file(self, path: str) -> TaskFile:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def setting(self, label: str) -> Setting:
        for s in self.settings:
            if s.label == label:
                return s
        raise KeyError(label)

    def metric_directions(self) -> dict[str, str]:
        """Every result metric this task reports, with its direction."""
        out = {}
        for setting in self.settings:
            for rule in self.metrics:
                if rule.applies_to(setting.label):
                    out[rule.metric_name(setting)] = rule.direction
        return out

    def missing_sources(self) -> list[Path]:
        """Scaffolds and baseline texts the spec names that are not there (yet)."""
        wanted = [f.source for f in self.files] + [b.path for b in self.baselines]
        return [p for p in wanted if not p.is_file()]

    @property
    def runnable(self) -> bool:
        return not self.missing_sources()


def drivers_root() -> Path:
    """The built-in drivers folder, located without importing it."""
    spec = find_spec("drivers")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the drivers package is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def load_task(folder: Path) -> TaskSpec:
    toml_path = folder / "task.toml"
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskSpecError(toml_path, "(file)", "not found") from None
    except UnicodeDecodeError as exc:
        raise TaskSpecError(toml_path, "(file)", f"not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaskSpecError(toml_path, "(syntax)", str(exc)) from None
    return _Parser(toml_path, raw).task()


class _Parser:
    """Walks the raw TOML, turning every problem into a TaskSpecError."""

    def __init__(self, path: Path, raw: dict[str, Any]):
        self.path, self.raw, self.folder = path, raw, path.parent

    def fail(self, field_name: str, reason: str) -> TaskSpecError:
        return TaskSpecError(self.path, field_name, reason)

    def get(self, table: dict, key: str, where: str, kind: type, default: Any = ...):
        name = f"{where}.{key}" if where else key
        if key not in table:
            if default is ...:
                raise self.fail(name, "missing")
            return default
        value = table[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise self.fail(name, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def table_list(self, key: str) -> list[dict]:
        items = self.raw.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self.fail(key, f"expected an array of tables ([[{key}]])")
        return items

    def task(self) -> TaskSpec:
        head = self.get(self.raw, "task", "", dict)
        task_id = self.get(head, "id", "task", str)
        if task_id != self.folder.name:
            raise self.fail("task.id", f"{task_id!r} differs from its folder name {self.folder.name!r}")
        description = self.folder / self.get(head, "description", "task", str)
        if not description.is_file():
            raise self.fail("task.description", f"file {description.name} not found in {self.folder}")
        budget = self.get(head, "test_budget", "task", int)
        if budget < 1:
            raise self.fail("task.test_budget", "must be at least 1")
        files = self.files()
        settings = self.settings()
        return TaskSpec(
            id=task_id,
            title=self.get(head, "title", "task", str),
            area=self.get(head, "area", "task", str),
            folder=self.folder,
            description_path=description,
            test_budget=budget,
            default_seed=self.get(head, "default_seed", "task", int, 42),
            files=files,
            settings=settings,
            metrics=self.metrics(settings),
            profiles=self.profiles(),
            baselines=self.baselines(files),
            reference=self.reference(),
        )

    def files(self) -> tuple[TaskFile, ...]:
        out, seen = [], set()
        for i, item in enumerate(self.table_list("files")):
            where = f"files[{i}]"
            path = self.get(item, "path", where, str)
            if path.startswith("/") or ".." in Path(path).parts:
                raise self.fail(f"{where}.path", "must be a relative path inside the workspace")
            if path in seen:
                raise self.fail(f"{where}.path", f"{path!r} listed twice")
            seen.add(path)
            source = self.get(item, "source", where, str)
            if source.startswith("drivers:"):
                source_path = drivers_root() / source.removeprefix("drivers:")
            else:
                source_path = self.folder / source
            ranges = self.ranges(item.get("editable", []), f"{where}.editable")
            self.check_ranges_fit(source_path, ranges, f"{where}.editable")
            out.append(TaskFile(path, source_path, ranges))
        if not any(f.is_editable for f in out):
            raise self.fail("files", "no file has an editable range")
        return tuple(out)

    def ranges(self, raw: Any, where: str) -> tuple[LineRange, ...]:
        if not isinstance(raw, list):
            raise self.fail(where, "expected a list of [start, end] pairs")
        out: list[LineRange] = []
        for pair in raw:
            ok = (
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
            )
            if not ok or pair[0] < 1 or pair[1] < pair[0]:
                raise self.fail(where, f"{pair!r} is not a [start, end] pair with 1 <= start <= end")
            if out and pair[0] <= out[-1].end:
                raise self.fail(where, "ranges must be in order and must not overlap")
            out.append(LineRange(pair[0], pair[1]))
        return tuple(out)

    def check_ranges_fit(self, source: Path, ranges: tuple[LineRange, ...], where: str) -> None:
        """Editable lines must exist in the scaffold (a missing scaffold is reported elsewhere)."""
        if not ranges or not source.is_file():
            return
        try:
            count = len(source.read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail(where, f"the scaffold {source.name} cannot be read as text: {exc}") from None
        last = ranges[-1]
        if last.end > count:
            raise self.fail(where, f"lines {last} lie past the end of {source.name} ({count} lines)")

    def settings(self) -> tuple[Setting, ...]:
        out, seen = [], set()
        for i, item in enumerate(self.table_list("settings")):
            where = f"settings[{i}]"
            label = self.get(item, "label", where, str)
            if not label or any(c.isspace() or c == "/" for c in label):
                raise self.fail(f"{where}.label", f"{label!r}: use a non-empty label without spaces or '/'")
            if label in seen:
                raise self.fail(f"{where}.label", f"{label!r} listed twice")
            seen.add(label)
            command = self.get(item, "command", where, str)
            try:
                command.format(**{p: "" for p in PLACEHOLDERS})
            except (KeyError, IndexError, ValueError) as exc:
                raise self.fail(
                    f"{where}.command",
                    f"bad placeholder {exc}; known: " + ", ".join("{%s}" % p for p in PLACEHOLDERS),
                ) from None
            out.append(Setting(label, command, self.get(item, "hidden", where, bool, False)))
        if not any(not s.hidden for s in out):
            raise self.fail("settings", "at least one visible setting is needed")
        return tuple(out)

    def metrics(self, settings: tuple[Setting, ...]) -> tuple[MetricRule, ...]:
        labels = {s.label for s in settings}
        out = []
        for i, item in enumerate(self.table_list("metrics")):
            where = f"metrics[{i}]"
            source = self.get(item, "source", where, str)
            if source not in METRIC_SOURCES:
                raise self.fail(f"{where}.source", f"{source!r}; expected one of {', '.join(METRIC_SOURCES)}")
            direction = self.get(item, "direction", where, str)
            if direction not in DIRECTIONS:
                raise self.fail(f"{where}.direction", f"{direction!r}; expected max or min")
            only = self.get(item, "settings", where, list, [])
            unknown = [s for s in only if s not in labels]
            if unknown:
                raise self.fail(f"{where}.settings", f"unknown setting labels {unknown}")
            name = self.get(item, "name", where, str, "{key}_{label}")
            try:
                name.format(key="", label="", label_snake="")
            except (KeyError, IndexError, ValueError) as exc:
                raise self.fail(f"{where}.name", f"bad placeholder {exc}") from None
            out.append(
                MetricRule(
                    key=self.get(item, "key", where, str),
                    source=source,
                    name=name,
                    direction=direction,
                    settings=tuple(only),
                    primary=self.get(item, "primary", where, bool, True),
                )
            )
        if not out:
            raise self.fail("metrics", "at least one [[metrics]] rule is needed")
        return tuple(out)

    def profiles(self) -> dict[str, Profile]:
        raw = self.get(self.raw, "profiles", "", dict)
        out = {}
        for name, item in raw.items():
            where = f"profiles.{name}"
            if name not in PROFILES:
                raise self.fail(where, f"unknown profile; expected one of {', '.join(PROFILES)}")
            if not isinstance(item, dict):
                raise self.fail(where, "expected a table")
            out[name] = Profile(
                name,
                self.get(item, "summary", where, str),
                self.get(item, "comparable", where, bool, False),
                self.get(item, "plan", where, str, ""),
            )
        missing = [p for p in PROFILES if p not in out]
        if missing:
            raise self.fail("profiles", f"missing {', '.join(missing)}")
        return out

    def baselines(self, files: tuple[TaskFile, ...]) -> tuple[Baseline, ...]:
        editable = [f.path for f in files if f.is_editable]
        out = []
        for i, item in enumerate(self.table_list("baselines")):
            where = f"baselines[{i}]"
            path = self.folder / self.get(item, "file", where, str)
            target = self.get(item, "target", where, str, editable[0])
            if target not in editable:
                raise self.fail(f"{where}.target", f"{target!r} is not an editable file")
            out.append(
                Baseline(
                    self.get(item, "name", where, str),
                    self.get(item, "title", where, str),
                    path,
                    target,
                )
            )
        return tuple(out)

    def reference(self) -> Reference | None:
        path = self.folder / "reference.json"
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            rows = tuple(raw["rows"])
            directions = dict(raw["metrics"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TaskSpecError(path, "(file)", f"not a results file with metrics and rows: {exc}") from None
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or "entry" not in row:
                raise TaskSpecError(path, f"rows[{i}]", "each row needs an 'entry'")
        return Reference(str(raw.get("source", "")), directions, rows)
