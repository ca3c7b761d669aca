"""The player's name: --name, MLSBENCH_NAME or the settings file, else the login name; never empty."""

import json

import pytest

import sessions.settings
from sessions.archive import open_archive
from sessions.settings import read_settings


@pytest.fixture(autouse=True)
def no_name_settings(tmp_path, monkeypatch):
    """An empty settings file and no MLSBENCH_NAME: only what a test sets names the player."""
    monkeypatch.setenv("MLSBENCH_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text("")
    monkeypatch.delenv("MLSBENCH_NAME", raising=False)


def test_the_name_comes_from_the_setting_else_the_login(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('name = "Ada  Lovelace"\n')
    assert read_settings({"MLSBENCH_CONFIG": str(config), "USER": "ada"}).player_name == "Ada Lovelace"
    assert read_settings({"MLSBENCH_CONFIG": str(config), "MLSBENCH_NAME": "Grace"}).player_name == "Grace"
    none = str(tmp_path / "empty-config-home")
    assert read_settings({"XDG_CONFIG_HOME": none, "USER": "ada"}).player_name == "ada"
    assert read_settings({"XDG_CONFIG_HOME": none, "LOGNAME": "ada2"}).player_name == "ada2"
    monkeypatch.setattr(sessions.settings, "account_name", lambda: "acct")
    assert read_settings({"XDG_CONFIG_HOME": none, "MLSBENCH_NAME": "  "}).player_name == "acct"
    monkeypatch.setattr(sessions.settings, "account_name", lambda: "")
    assert read_settings({"XDG_CONFIG_HOME": none}).player_name == "anonymous"


def test_the_name_is_journaled_shown_on_the_board_and_exported(cli, tmp_path):
    code, out, err = cli("session", "new", "--task", "fake-task", "--profile", "demo", "--name", "Ada\tL.", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["person"] == "Ada L."
    journal = (tmp_path / "sessions" / "fake-task" / status["session"] / "journal.jsonl").read_text()
    assert json.loads(journal.splitlines()[0])["data"]["person"] == "Ada L."
    sid = status["session"]
    assert cli("session", "test", "--session", sid)[0] == 0
    assert cli("session", "submit", "--session", sid, "--n", "1")[0] == 0
    code, out, _ = cli("leaderboard", "--task", "fake-task", "--profile", "demo")
    assert "person:Ada L." in out and "anonymous" not in out
    code, out, _ = cli("session", "export", sid, "-o", str(tmp_path), "--json")
    with open_archive(tmp_path / json.loads(out)["archive"]) as archive:
        assert archive.manifest["session"]["person"] == "Ada L."


def test_the_name_from_the_environment_and_an_empty_one_refused(cli, monkeypatch):
    monkeypatch.setenv("MLSBENCH_NAME", "Grace")
    code, out, _ = cli("session", "new", "--task", "fake-task", "--profile", "demo", "--json")
    assert json.loads(out)["person"] == "Grace"
    code, out, err = cli("session", "new", "--task", "fake-task", "--profile", "demo", "--name", " ")
    assert code == 2 and "--name is empty" in err and "'Grace'" in err
    code, out, _ = cli("sessions", "--json")
    assert len(json.loads(out)) == 1  # the refused one made no session
