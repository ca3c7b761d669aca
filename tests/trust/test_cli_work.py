"""`session note` and `--time-limit` from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest



def test_a_session_with_a_time_limit_and_notes_from_the_cli(cli, monkeypatch):
    code, out, _ = cli("session", "new", "--task", "fake-task", "--profile", "demo", "--time-limit", "1h30m")
    assert code == 0 and "Working time 0:00:00 of a 1:30:00 limit (1:30:00 left)" in out
    sid = out.split()[2]
    code, out, _ = cli("session", "note", "# idea\nraise SCORE", "--session", sid)
    assert code == 0 and out.startswith("note recorded before the first test")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"from stdin\n")))
    assert cli("session", "note", "-")[0] == 0
    code, out, _ = cli("session", "status", "--json")
    status = json.loads(out)
    assert status["work_time"]["time_limit_s"] == 5400 and status["paused"] is False
    code, out, _ = cli("replay", status["dir"])
    assert "thinking (note, before the first test): # idea" in out
    assert "thinking (note, before the first test): from stdin" in out


def test_bad_notes_and_limits_are_refused_with_a_message(cli, capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's usage error
        cli("session", "new", "--task", "fake-task", "--profile", "demo", "--time-limit", "soon")
    assert exit_.value.code == 2
    assert "time limit 'soon' is not a duration: write it as 2h, 90m, 1h30m or 45s" in capsys.readouterr().err
    cli("session", "new", "--task", "fake-task", "--profile", "demo")
    code, _, err = cli("session", "note", "   ")
    assert code == 2 and "the note is empty, so nothing was recorded" in err
    code, out, _ = cli("session", "note", "", "--json")
    assert code == 2 and json.loads(out)["error"].startswith("the note is empty")


def test_a_note_for_a_session_open_elsewhere_says_where_to_write_it(cli, catalog):
    from sessions.engine import Session

    code, out, _ = cli("session", "new", "--task", "fake-task", "--profile", "demo")
    status = json.loads(cli("session", "status", "--json")[1])
    holder = Session.open(Path(status["dir"]), catalog.get("fake-task"))  # as the app would hold it
    try:
        code, _, err = cli("session", "note", "later")
    finally:
        holder.close()
    assert code == 2 and "is open in another mlsbench-tui process" in err and "in the app, ctrl+r writes a note" in err
    assert cli("session", "note", "later")[0] == 0
