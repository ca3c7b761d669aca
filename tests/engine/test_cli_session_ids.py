"""A session is named by its folder, its id or a unique prefix of the id, wherever one is asked for."""

import json

from sessions.store import find_session, session_or_path


def new_session(cli) -> dict:
    code, out, _ = cli("session", "new", "--task", "fake-task", "--profile", "demo", "--json")
    assert code == 0
    return json.loads(out)


def test_sessions_prints_each_path(cli):
    first, second = new_session(cli), new_session(cli)
    code, out, _ = cli("sessions")
    assert code == 0
    assert f"    {first['dir']}\n" in out and f"    {second['dir']}\n" in out
    code, out, _ = cli("sessions", "--json")
    assert {(row["id"], row["path"]) for row in json.loads(out)} == {
        (first["session"], first["dir"]), (second["session"], second["dir"])}


def test_replay_takes_an_id_a_prefix_or_the_folder(cli):
    status = new_session(cli)
    sid = status["session"]
    outputs = []
    for name in (sid, sid[:-2], status["dir"]):
        code, out, err = cli("replay", "--json", name)
        assert code == 0, err
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]["source"] == "session" and outputs[0]["path"] == status["dir"]


def test_an_ambiguous_prefix_lists_the_candidates(cli):
    first, second = new_session(cli), new_session(cli)
    common = next(i for i, (a, b) in enumerate(zip(first["session"], second["session"])) if a != b)
    prefix = first["session"][:common]
    for args in (("replay", prefix), ("session", "export", prefix), ("session", "status", "--session", prefix)):
        code, _, err = cli(*args)
        assert code == 2, args
        assert "2 sessions match" in err and first["dir"] in err and second["dir"] in err, args


def test_a_miss_says_where_it_looked(cli, tmp_path):
    new_session(cli)
    code, _, err = cli("replay", "nope-123")
    assert code == 2
    assert "no file or folder 'nope-123' here" in err
    assert f"no session matching 'nope-123' in {tmp_path / 'sessions'} (no id of the 1 session(s) there" in err
    code, _, err = cli("rescore", "--task", "fake-task", "--profile", "demo", "--session", "nope-123")
    assert code == 2 and f"in {tmp_path / 'sessions'}" in err


def test_an_exact_id_wins_over_the_ids_it_begins(tmp_path):
    task_dir = tmp_path / "fake-task"
    for name in ("20250101-120000-demo", "20250101-120000-demo-2"):
        (task_dir / name).mkdir(parents=True)
        (task_dir / name / "journal.jsonl").write_text("")
    assert find_session(tmp_path, "20250101-120000-demo") == task_dir / "20250101-120000-demo"
    assert session_or_path(tmp_path, "20250101-120000-demo-2") == task_dir / "20250101-120000-demo-2"
    assert session_or_path(tmp_path, str(task_dir)) == task_dir  # an existing path is taken as it is


def test_the_app_replays_a_session_named_by_prefix(cli, monkeypatch):
    import tui.replay_app

    status = new_session(cli)
    opened = []
    monkeypatch.setattr(tui.replay_app, "run_replay", lambda path, catalog, compare=None: opened.append((path, compare)))
    code, _, err = cli("--replay", status["session"][:-1], "--compare", status["dir"])
    assert code == 0, err
    assert [(str(a), str(b)) for a, b in opened] == [(status["dir"], status["dir"])]
