"""Settings in one place: the environment over the settings file over the defaults, read once, checked."""

from __future__ import annotations

from pathlib import Path

from sessions.environment import environment_problems
from sessions.settings import current_settings, read_settings


def settings_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return {"MLSBENCH_CONFIG": str(path), "HOME": str(tmp_path)}


def test_the_environment_wins_over_the_file_which_wins_over_the_defaults(tmp_path):
    env = settings_file(tmp_path, 'sessions_dir = "/from/file"\ndata_root = "/data/file"\n'
                                  'tasks = ["/t1", "/t2"]\njob_nice = 0\n')
    settings = read_settings({**env, "MLSBENCH_DATA": "/data/env", "XDG_DATA_HOME": "/xdg"})
    assert settings.sessions_dir == Path("/from/file") and settings.source("sessions_dir").endswith(": sessions_dir")
    assert settings.data_root == Path("/data/env") and settings.source("data_root") == "MLSBENCH_DATA"
    assert settings.task_dirs == (Path("/t1"), Path("/t2")) and settings.job_nice == "0"
    defaults = read_settings({"XDG_DATA_HOME": "/xdg", "XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert defaults.sessions_dir == Path("/xdg/mlsbench-tui/sessions") and defaults.data_root == Path("/xdg/mlsbench-tui/data")
    assert defaults.slurm_config == tmp_path / "none" / "mlsbench-tui" / "slurm.toml" and defaults.config_file is None


def test_the_default_settings_file_is_read_from_the_config_home(tmp_path):
    home = tmp_path / "mlsbench-tui"
    home.mkdir()
    (home / "config.toml").write_text('python = "/opt/py/bin/python"\n')
    settings = read_settings({"XDG_CONFIG_HOME": str(tmp_path)})
    assert settings.python == "/opt/py/bin/python" and settings.config_file == home / "config.toml"


def test_a_bad_settings_file_is_reported_with_the_file_and_the_key(tmp_path):
    env = settings_file(tmp_path, 'tasks = "not a list"\ncolour = "blue"\njob_nice = 42\n')
    problems = "\n".join(environment_problems(env))
    assert "unknown key 'colour'" in problems and "tasks must be a list of paths" in problems
    assert f"{tmp_path / 'config.toml'}: job_nice='42'" in problems  # the file, not a variable, set it
    (tmp_path / "config.toml").write_text("sessions_dir = \n")
    assert "is not valid TOML" in "\n".join(environment_problems(env))
    assert "no such file" in "\n".join(environment_problems({"MLSBENCH_CONFIG": str(tmp_path / "nope.toml")}))


def test_settings_are_read_once_for_an_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MLSBENCH_SESSIONS", str(tmp_path / "a"))
    first = current_settings()
    assert current_settings() is first and first.sessions_dir == tmp_path / "a"
    monkeypatch.setenv("MLSBENCH_SESSIONS", str(tmp_path / "b"))
    assert current_settings().sessions_dir == tmp_path / "b"  # a changed environment is read again


def test_the_readme_table_lists_every_setting():
    from sessions.settings import OPTIONS
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for option in OPTIONS:
        assert f"| `{option.env}` | `{option.key}` |" in readme, option.env


def test_the_command_line_takes_its_folders_from_the_settings_file_and_reports_a_bad_one(tmp_path, monkeypatch, capsys):
    from tui.cli import main

    (tmp_path / "config.toml").write_text(f'sessions_dir = "{tmp_path / "kept"}"\n')
    monkeypatch.setenv("MLSBENCH_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("MLSBENCH_SESSIONS", raising=False)
    assert main(["sessions"]) == 0 and str(tmp_path / "kept") in capsys.readouterr().out
    (tmp_path / "bad.toml").write_text("job_nice = 99\n")  # another file: a file is read once a process
    monkeypatch.setenv("MLSBENCH_CONFIG", str(tmp_path / "bad.toml"))
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "settings are not usable" in err and f"{tmp_path / 'bad.toml'}: job_nice='99'" in err
