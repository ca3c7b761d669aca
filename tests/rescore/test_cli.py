"""`mlsbench-tui rescore` and `leaderboard` as a script drives them (output piped)."""

from __future__ import annotations

import json

from tests.rescore.conftest import conversation


def test_rescore_prints_plain_progress_lines_when_piped_and_hits_the_cache_the_second_time(cli):
    code, out, _ = cli("rescore", "--task", "fake-task", "--profile", "demo", "--baseline", "better")
    assert code == 0 and "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "[1/1] baseline:better: running every setting (visible, then hidden)"
    assert "[1/1] baseline:better alpha (test #1): running" in lines
    assert "[1/1] baseline:better gamma (submission (test #1)): done" in lines
    assert any(line.startswith("[1/1] baseline:better alpha epoch 3/3; ETA") for line in lines)
    assert any(line.startswith("[1/1] baseline:better: done in ") and "test_acc_gamma=72.00" in line for line in lines)
    assert "Leaderboard: fake-task (profile demo)" in out

    code, out, _ = cli("rescore", "--task", "fake-task", "--profile", "demo", "--baseline", "better", "--json")
    outcome = json.loads(out)["outcomes"][0]
    assert code == 0 and outcome["cached"] is True and outcome["results"]["test_acc_alpha"] == "70.00"


def test_rescore_of_a_persons_submitted_session(cli):
    code, out, _ = cli("session", "new", "--task", "fake-task", "--profile", "demo")
    sid = out.split()[2]
    cli("session", "test", "--session", sid)
    cli("session", "submit", "--session", sid, "--n", "1")
    code, out, _ = cli("rescore", "--task", "fake-task", "--profile", "quick", "--session", sid, "--json")
    outcome = json.loads(out)["outcomes"][0]
    assert code == 0 and outcome["entry"].startswith("person:") and f"session {sid}" in outcome["detail"]
    assert outcome["results"]["test_acc_gamma"] == "52.00"


def test_rescore_refusals_say_what_to_do(cli):
    code, _, err = cli("rescore", "--task", "fake-task", "--profile", "demo")
    assert code == 2 and "pass --baselines, --baseline NAME, --agents PATH or --session ID" in err
    code, _, err = cli("rescore", "--task", "fake-task", "--profile", "demo", "--baseline", "nope")
    assert code == 2 and "fake-task has no baseline 'nope'; known: default, better" in err
    code, _, err = cli("rescore", "--task", "fake-task", "--profile", "demo", "--session", "nosuch")
    assert code == 2 and "no session matching 'nosuch'" in err
    cli("session", "new", "--task", "fake-task", "--profile", "demo")
    code, _, err = cli("rescore", "--task", "fake-task", "--profile", "demo", "--session", _session_id(cli))
    assert code == 2 and "has not submitted a test yet" in err


def _session_id(cli) -> str:
    _, out, _ = cli("sessions", "--json")
    return json.loads(out)[0]["id"]


def test_rescore_agents_reports_the_scan_and_runs_that_cannot_be_rescored(cli, tmp_path):
    folder = tmp_path / "agents"
    conversation(folder / "fake-task", "m.json", [66], submit=1, model="m")
    conversation(folder / "other", "o.json", [1], task_id="dl-activation-function")
    code, out, _ = cli("rescore", "--task", "fake-task", "--profile", "demo", "--agents", str(folder))
    assert code == 0
    assert out.splitlines()[0] == "agents: read 1 conversation file(s), skipped 1 (1 of another task)"
    assert "[1/1] agent:m: done in" in out


def test_leaderboard_json_has_provenance_seeds_and_the_scan(cli, tmp_path):
    conversation(tmp_path / "agents", "m.json", [66], submit=1, model="m")
    (tmp_path / "agents" / "notes.txt").write_text("not a conversation\n")
    code, out, _ = cli("leaderboard", "--task", "fake-task", "--profile", "paper", "--agents",
                       str(tmp_path / "agents"), "--json")
    board = json.loads(out)
    rows = {r["entry"]: r for r in board["rows"]}
    assert code == 0 and rows["agent:m"]["provenance"] == "published"
    assert rows["baseline:better"]["provenance"] == "published" and rows["baseline:better"]["mean_rank"] == 1.0
    assert "baseline:default (default)" in rows
    assert [s["why"] for s in board["agents_scan"]["skipped"]] == ["not a conversation (no agent steps)"]


def test_a_candidate_the_engine_refuses_is_reported_and_the_others_still_run(cli, tmp_path):
    broken = conversation(tmp_path / "agents", "broken.json", [60], submit=1, model="broken")
    raw = json.loads(broken.read_text())
    for message in raw["messages"]:
        if message.get("tool_name") == "edit":  # its preflight (`--check`) fails
            message["tool_input"]["content"] += "import sys\nif '--check' in sys.argv: sys.exit(3)\n"
    broken.write_text(json.dumps(raw))
    conversation(tmp_path / "agents", "fine.json", [66], submit=1, model="fine")
    code, out, err = cli("rescore", "--task", "fake-task", "--profile", "demo", "--agents", str(tmp_path / "agents"))
    assert code == 2
    assert "[1/2] agent:broken: not re-scored: the test was not started (nothing spent):" in out
    assert "[2/2] agent:fine: done in" in out
    assert "1 of 2 candidate(s) were not re-scored:" in err and "preflight failed (exit 3)" in err
