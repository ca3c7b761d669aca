"""One leaderboard: provenance, seeds, profiles never mixed, agents and the scaffold default."""

from __future__ import annotations

import json
import shutil

from sessions.leaderboard import (
    NOT_MEASURED,
    PUBLISHED,
    RESCORED_HERE,
    RESCORED_SHIPPED,
    YOURS,
    build_board,
    final_table_lines,
)
from sessions.rescore_candidates import agent_runs, baseline_candidate
from sessions.rescore_ghosts import ghost_curves
from sessions.rescore_reference import reference_path, write_reference
from tasks import Catalog
from tests.conftest import FIXTURE_TASKS
from tests.rescore.conftest import conversation


def rows_by(board):
    return {(r.entry, r.provenance): r for r in board.rows}


def test_rows_carry_their_provenance_and_seeds(fake_task, rescorer, new_session, tmp_path):
    rescorer().rescore(baseline_candidate(fake_task, "better"))
    mine = new_session()
    mine.test()
    mine.submit(1)
    demo = build_board(fake_task, tmp_path / "sessions", "demo")
    rows = rows_by(demo)
    assert rows[("baseline:better", RESCORED_HERE)].seeds == "42"
    assert rows[("baseline:better", RESCORED_HERE)].values["test_acc_gamma"] == 72.0
    assert rows[("person:" + (mine.meta["person"] or "anonymous"), YOURS)].seeds == "42"
    # the scaffold default is always there: here nobody has measured it on demo yet
    assert rows[("baseline:default (default)", NOT_MEASURED)].values == {}
    assert [r.entry for r in demo.rows][:2] == ["baseline:better", "person:" + (mine.meta["person"] or "anonymous")]
    assert demo.ranks[:2] == [1.0, 2.0] and demo.ranks[-1] is None


def test_profiles_never_mix(fake_task, rescorer, new_session, tmp_path):
    rescorer().rescore(baseline_candidate(fake_task, "better"))
    rescorer(profile="quick").rescore(baseline_candidate(fake_task, "default"))
    mine = new_session()
    mine.test()
    mine.submit(1)
    paper = build_board(fake_task, tmp_path / "sessions", "paper")
    assert {r.provenance for r in paper.rows} == {PUBLISHED}  # no demo person, no demo or quick re-score
    demo = build_board(fake_task, tmp_path / "sessions", "demo")
    assert PUBLISHED not in {r.provenance for r in demo.rows}
    assert ("baseline:default (default)", RESCORED_HERE) not in rows_by(demo)  # that one ran on quick
    quick = build_board(fake_task, tmp_path / "sessions", "quick")
    assert [(r.entry, r.provenance) for r in quick.rows] == [("baseline:default (default)", RESCORED_HERE)]
    # the final table of a demo submission ranks it among demo rows only
    lines = "\n".join(final_table_lines(fake_task, "demo", mine.final_results()))
    table = lines.split("#  entry", 1)[1]
    assert "published" not in table and "baseline:better" in table and "re-scored here" in table
    you = next(line for line in lines.splitlines() if " you " in line)
    assert you.startswith("2 ")  # behind better (70 > 50), never ranked against paper numbers


def test_paper_keeps_published_numbers_with_rescored_ones_beside_them(fake_task, rescorer):
    rescorer(profile="paper").rescore(baseline_candidate(fake_task, "better"))
    rows = rows_by(build_board(fake_task, None, "paper"))
    assert rows[("baseline:better", PUBLISHED)].values["test_acc_alpha"] == 70.0
    assert rows[("baseline:better", RESCORED_HERE)].values["test_acc_alpha"] == 70.0


def test_agents_submitted_auto_submitted_and_not_submitted(fake_task, catalog, tmp_path, rescorer):
    folder = tmp_path / "agents" / "fake-task"
    conversation(folder, "submitter.json", [60, 75], submit=2, model="submitter")
    conversation(folder, "deep/auto.json", [60, 75, 65], auto_submit=True, model="auto")
    conversation(folder, "quitter.json", [61, 62], model="quitter")
    paper = build_board(fake_task, None, "paper", [tmp_path / "agents"], catalog=catalog)
    agents = {r.entry: r for r in paper.rows if r.kind == "agent"}
    assert set(agents) == {"agent:submitter", "agent:auto"}  # only what submitted has published numbers
    assert agents["agent:submitter"].values["test_acc_gamma"] == 77.0
    assert agents["agent:auto"].values["test_acc_alpha"] == 65.0
    assert "submitted test #3" in agents["agent:auto"].detail and agents["agent:auto"].provenance == PUBLISHED

    runs, _ = agent_runs(fake_task, [tmp_path / "agents"], catalog)
    for run in runs:
        rescorer().rescore(run.candidate)
    demo = build_board(fake_task, None, "demo", catalog=catalog)
    rescored = {r.entry: r for r in demo.rows if r.kind == "agent"}
    assert rescored["agent:quitter"].values["test_acc_alpha"] == 62.0
    assert "last tested #2, not submitted" in rescored["agent:quitter"].detail
    assert rescored["agent:auto"].values["test_acc_gamma"] == 67.0  # its hidden setting ran here


def test_the_folder_scan_is_recursive_and_says_what_it_read_and_skipped(fake_task, catalog, tmp_path):
    root = tmp_path / "exports"
    conversation(root / "fake-task", "a.json", [60], submit=1)
    conversation(root / "fake-task" / "older", "b.json", [61], submit=1)
    conversation(root / "dl-activation-function", "c.json", [62], task_id="dl-activation-function")
    (root / "README.md").write_text("exports\n")
    (root / "index.json").write_text(json.dumps({"conversations": ["a.json"]}))
    board = build_board(fake_task, None, "paper", [root], catalog=catalog)
    scan = board.agents_scan
    assert sorted(p.name for p in scan.read) == ["a.json", "b.json"]
    reasons = sorted(why for _, why in scan.skipped)
    assert reasons == ["not a conversation (no agent steps)", "not a conversation file (.json, .txt or .jsonl)",
                       "of another task"]
    assert scan.summary().startswith("agents: read 2 conversation file(s), skipped 3 (")


def test_a_shipped_reference_gives_a_fresh_clone_its_opponents(tmp_path, monkeypatch, store):
    shutil.copytree(FIXTURE_TASKS / "fake-task", tmp_path / "tasks" / "fake-task")
    task = Catalog([tmp_path / "tasks"]).get("fake-task")
    from sessions.rescore import Rescorer

    import sys

    rescorer = Rescorer(task, store, profile="demo", data_root=tmp_path / "data", slots=[{}], python=sys.executable)
    results = [rescorer.rescore(baseline_candidate(task, name)).result for name in ("default", "better")]
    path = write_reference(task, "demo", 42, results, "mlsbench-tui rescore --task fake-task --baselines")
    assert path == reference_path(task, "demo") == tmp_path / "tasks" / "fake-task" / "reference-demo.json"
    raw = json.loads(path.read_text())
    assert raw["command"] == "mlsbench-tui rescore --task fake-task --baselines"
    assert raw["versions"]["torch"] and raw["date"] and raw["seed"] == 42
    assert raw["entries"][1]["curves"]["alpha"][-1]["test_acc"] == 70.0

    shutil.rmtree(store.root)  # a fresh clone: nothing re-scored here
    rows = rows_by(build_board(task, None, "demo"))
    assert rows[("baseline:better", RESCORED_SHIPPED)].values["test_acc_beta"] == 71.0
    assert rows[("baseline:default (default)", RESCORED_SHIPPED)].seeds == "42"
    ghosts = ghost_curves(task, "demo", "beta")
    assert ghosts.best_baseline.entry == "baseline:better" and ghosts.metric == "test_acc_beta"
    assert [row["test_acc"] for row in ghosts.best_baseline.curve] == [24.33, 47.67, 71.0]

    rescorer.rescore(baseline_candidate(task, "better"))  # measured here again: that row wins
    rows = rows_by(build_board(task, None, "demo"))
    assert ("baseline:better", RESCORED_SHIPPED) not in rows and ("baseline:better", RESCORED_HERE) in rows

    # a change to the fixed lines makes the shipped numbers stale: they are not shown
    scaffold = tmp_path / "tasks" / "fake-task" / "fake_driver.py"
    scaffold.write_text(scaffold.read_text().replace("import time", "import time  # changed"))
    task = Catalog([tmp_path / "tasks"]).get("fake-task")
    assert {r.provenance for r in build_board(task, None, "demo").rows} == {NOT_MEASURED}


def test_ghost_curves_give_the_best_baseline_and_each_agent(fake_task, catalog, rescorer, tmp_path):
    for name in ("default", "better"):
        rescorer().rescore(baseline_candidate(fake_task, name))
    conversation(tmp_path / "agents", "a.json", [90], submit=1, model="strong")
    runs, _ = agent_runs(fake_task, [tmp_path / "agents"], catalog)
    rescorer().rescore(runs[0].candidate)
    ghosts = ghost_curves(fake_task, "demo", "gamma")
    assert ghosts.best_baseline.entry == "baseline:better" and ghosts.best_baseline.value == 72.0
    assert [(g.entry, g.value) for g in ghosts.agents] == [("agent:strong", 92.0)]
    assert len(ghosts.agents[0].curve) == 3 and ghosts.direction == "max"
    assert ghost_curves(fake_task, "paper", "gamma").best_baseline is None  # nothing re-scored on paper


def test_two_runs_of_one_agent_are_two_rows_and_seeds_of_one_region_are_one(fake_task, catalog, rescorer, tmp_path):
    first = conversation(tmp_path, "one.json", [61], model="same")
    second = conversation(tmp_path, "two.json", [64], model="same")
    runs, _ = agent_runs(fake_task, [first, second], catalog)
    for run in runs:
        rescorer().rescore(run.candidate)
    rescorer(seed=7).rescore(runs[0].candidate)
    rows = [r for r in build_board(fake_task, None, "demo").rows if r.kind == "agent"]
    assert [(r.entry, r.values["test_acc_alpha"], r.seeds) for r in rows] == [
        ("agent:same", 64.0, "42"), ("agent:same", 61.0, "7, 42")]
    assert "two.json" in rows[0].detail and "one.json" in rows[1].detail


def test_a_region_whose_indentation_the_source_lost_is_not_rescored_and_says_why(fake_task, catalog, tmp_path):
    path = conversation(tmp_path, "flat.json", [60], submit=1, model="flat")
    raw = json.loads(path.read_text())
    for message in raw["messages"]:
        if message.get("tool_name") == "edit":
            message["tool_input"]["content"] = "SCORE = 60.0\nif SCORE:\nCRASH_AT = None\nNOISE = 0.0\n"
    path.write_text(json.dumps(raw))
    (run,), _ = agent_runs(fake_task, [path], catalog)
    assert run.candidate is None and run.published["test_acc_alpha"] == "60.00"
    assert run.why.startswith("fake/fake_driver.py as the source gives it does not compile (expected an indented block")
    assert "a JSON export keeps it" in run.why
