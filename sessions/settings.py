"""Every setting of mlsbench-tui in one place: the environment, an optional config file, defaults.

An environment variable wins over the config file, which wins over the default.
The config file is TOML, at $MLSBENCH_CONFIG, else
$XDG_CONFIG_HOME/mlsbench-tui/config.toml (~/.config/... when XDG_CONFIG_HOME is
unset); its keys are the `key`s of OPTIONS, for example

    sessions_dir = "~/mlsbench/sessions"
    tasks = ["~/my-tasks"]
    job_nice = 0

`current_settings()` reads them once for a given environment, so every module
sees the same values; `sessions.environment` checks them, a clear message each.
The README's table of settings is this module's OPTIONS.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_ENV = "MLSBENCH_CONFIG"


@dataclass(frozen=True)
class Option:
    key: str  # in the config file
    env: str  # the environment variable
    meaning: str
    is_list: bool = False  # a list of paths (in the environment: separated by os.pathsep)


OPTIONS = (
    Option("sessions_dir", "MLSBENCH_SESSIONS", "where sessions are kept"),
    Option("data_root", "MLSBENCH_DATA", "where datasets live"),
    Option("python", "MLSBENCH_PYTHON", "the Python that runs the training drivers (one with torch)"),
    Option("tasks", "MLSBENCH_TASKS", "extra task folders", is_list=True),
    Option("agents", "MLSBENCH_AGENTS", "published agent conversations (files or folders)", is_list=True),
    Option("results_dir", "MLSBENCH_RESULTS", "the re-scored results store (default: results/ beside the sessions folder)"),
    Option("slots", "MLSBENCH_SLOTS", "settings run at once: a count, or CUDA device ids"),
    Option("job_nice", "MLSBENCH_JOB_NICE", "CPU niceness of local jobs, 0 to 19"),
    Option("slurm_config", "MLSBENCH_SLURM_CONFIG", "the Slurm runner's TOML config"),
    Option("name", "MLSBENCH_NAME", "your name on leaderboards and in exported sessions (`--name` wins)"),
)
BY_KEY = {o.key: o for o in OPTIONS}
# Read from the environment only: the system's own conventions.
SYSTEM_VARS = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "CUDA_VISIBLE_DEVICES", "USER", "LOGNAME", "VISUAL", "EDITOR")
NAME_LENGTH = 64  # characters of a player's name that are kept (it is a column on the leaderboard)
NO_NAME = "anonymous"


@dataclass(frozen=True)
class Settings:
    """The settings as read: each option's text (or list), and where it came from."""

    values: dict[str, str | tuple[str, ...]] = field(default_factory=dict)  # option key -> value
    sources: dict[str, str] = field(default_factory=dict)  # option key -> its variable, or the config file
    system: dict[str, str] = field(default_factory=dict)  # SYSTEM_VARS that are set
    config_file: Path | None = None  # the config file read, if any
    problems: tuple[str, ...] = ()  # what is wrong with the config file itself

    def text(self, key: str) -> str:
        value = self.values.get(key, "")
        return value if isinstance(value, str) else os.pathsep.join(value)

    def paths(self, key: str) -> tuple[Path, ...]:
        value = self.values.get(key, ())
        parts = value.split(os.pathsep) if isinstance(value, str) else value
        return tuple(Path(p).expanduser() for p in parts if p)

    def _data_home(self) -> Path:
        return Path(self.system.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mlsbench-tui"

    def source(self, key: str) -> str:
        return self.sources.get(key, BY_KEY[key].env)

    @property
    def sessions_dir(self) -> Path:
        value = self.text("sessions_dir")
        return Path(value).expanduser() if value else self._data_home() / "sessions"

    @property
    def results_dir(self) -> Path | None:
        value = self.text("results_dir")
        return Path(value).expanduser() if value else None

    @property
    def data_root(self) -> Path:
        value = self.text("data_root")
        return Path(value).expanduser() if value else self._data_home() / "data"

    @property
    def python(self) -> str | None:
        return self.text("python") or None

    @property
    def task_dirs(self) -> tuple[Path, ...]:
        return self.paths("tasks")

    @property
    def agent_paths(self) -> tuple[Path, ...]:
        return self.paths("agents")

    @property
    def slots(self) -> str:
        return self.text("slots").strip()

    @property
    def job_nice(self) -> str:
        return self.text("job_nice").strip()

    @property
    def slurm_config(self) -> Path:
        value = self.text("slurm_config")
        if value:
            return Path(value).expanduser()
        return config_home(self.system) / "slurm.toml"

    @property
    def cuda_visible_devices(self) -> str | None:
        return self.system.get("CUDA_VISIBLE_DEVICES")

    @property
    def user(self) -> str:
        """The login name: $USER, $LOGNAME, else the account of this process's user id."""
        return self.system.get("USER") or self.system.get("LOGNAME") or account_name()

    @property
    def player_name(self) -> str:
        """Who plays, as sessions record it: the `name` setting, else the login name."""
        return player_name(self.text("name")) or player_name(self.user) or NO_NAME

    @property
    def editor(self) -> str:
        """The command that edits a file outside the app ($VISUAL, else $EDITOR)."""
        return self.system.get("VISUAL") or self.system.get("EDITOR") or ""


def player_name(text: str) -> str:
    """A name as it is recorded: one line, spaces collapsed, at most NAME_LENGTH characters."""
    return " ".join(text.split())[:NAME_LENGTH].strip()


def account_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # no pwd (Windows), or a user id the passwd file lacks (containers)
        return ""


def config_home(system: dict[str, str]) -> Path:
    return Path(system.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "mlsbench-tui"


def read_settings(environ: dict[str, str]) -> Settings:
    """The settings an environment gives, with the config file it names (or the default one)."""
    system = {name: environ[name] for name in SYSTEM_VARS if name in environ}
    named = environ.get(CONFIG_ENV, "")
    path = Path(named).expanduser() if named else config_home(system) / "config.toml"
    file_values, problems = _read_config(path, required=bool(named))
    values: dict[str, str | tuple[str, ...]] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        if environ.get(option.env, ""):
            values[option.key], sources[option.key] = environ[option.env], option.env
        elif option.key in file_values:
            values[option.key], sources[option.key] = file_values[option.key], f"{path}: {option.key}"
    read = path if file_values or problems else None
    return Settings(values, sources, system, read, tuple(problems))


def _read_config(path: Path, required: bool) -> tuple[dict[str, str | tuple[str, ...]], list[str]]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [f"{CONFIG_ENV}={str(path)!r}: no such file (the settings file, TOML)"] if required else []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"the settings file {path} cannot be read ({exc})"]
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"the settings file {path} is not valid TOML: {exc}"]
    values: dict[str, str | tuple[str, ...]] = {}
    problems = []
    for key, value in raw.items():
        option = BY_KEY.get(key)
        if option is None:
            problems.append(f"the settings file {path} has an unknown key {key!r}; known: {', '.join(BY_KEY)}")
        elif option.is_list and isinstance(value, list) and all(isinstance(v, str) for v in value):
            values[key] = tuple(value)
        elif not option.is_list and isinstance(value, (str, int)) and not isinstance(value, bool):
            values[key] = str(value)
        else:
            wanted = "a list of paths (strings)" if option.is_list else "a string"
            problems.append(f"the settings file {path}: {key} must be {wanted}, not {value!r}")
    return values, problems


@lru_cache(maxsize=8)
def _settings_for(relevant: tuple[tuple[str, str], ...]) -> Settings:
    return read_settings(dict(relevant))


def current_settings() -> Settings:
    """The settings of this process's environment, read once for each distinct environment."""
    names = (CONFIG_ENV, "HOME", *SYSTEM_VARS, *(o.env for o in OPTIONS))  # HOME: the default folders
    return _settings_for(tuple((n, os.environ[n]) for n in names if n in os.environ))
