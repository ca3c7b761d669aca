"""Re-scoring through the engine: results, curves, the cache and resuming a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sessions.rescore import RescoreFailed
from sessions.rescore_candidates import Candidate, CandidateError, Name, baseline_candidate, baseline_candidates, fixed_hash
from tests.conftest import FAKE_FILE, FIXTURE_TASKS, ROOT


def journal_types(session_dir):
    lines = (session_dir / "journal.jsonl").read_text().splitlines()
    return [json.loads(line)["type"] for line in lines]


def test_a_candidate_runs_every_setting_through_the_engine_and_keeps_curves(fake_task, rescorer):
    outcome = rescorer().rescore(baseline_candidate(fake_task, "better"))
    result = outcome.result
    assert not outcome.cached and result.status == "done"
    # the hidden setting ran too (the submission of the internal session)
    assert result.results == {"test_acc_alpha": "70.00", "test_acc_beta": "71.00", "test_acc_gamma": "72.00"}
    curves = result.curves()
    assert [row["test_acc"] for row in curves["gamma"]] == [25.33, 48.67, 72.0]
    assert curves["alpha"][0] == {"epoch": 1.0, "train_loss": 1.0, "test_acc": 23.33, "lr": 0.1}
    session_dir = next((result.dir / "session" / "fake-task").iterdir())
    types = journal_types(session_dir)
    assert types.count("edit") == 1 and types.count("test_started") == 1 and types.count("submit_started") == 1


def test_a_second_rescore_of_the_same_region_is_a_cache_hit(fake_task, rescorer):
    first = rescorer().rescore(baseline_candidate(fake_task, "better"))
    session_dir = next((first.result.dir / "session" / "fake-task").iterdir())
    journal = (session_dir / "journal.jsonl").read_text()
    again = rescorer().rescore(baseline_candidate(fake_task, "better"))
    assert again.cached and again.result.results == first.result.results
    assert (session_dir / "journal.jsonl").read_text() == journal  # nothing ran
    # the same region under another name is the same experiment: one more name, no run
    twin = Candidate(Name("agent:copycat", "agent", "copied it"), baseline_candidate(fake_task, "better").files)
    third = rescorer().rescore(twin)
    assert third.cached and [n.entry for n in third.result.names] == ["baseline:better", "agent:copycat"]


def test_the_key_holds_profile_seed_and_fixed_files(fake_task, rescorer, store):
    candidate = baseline_candidate(fake_task, "better")
    rescorer().rescore(candidate)
    assert not rescorer(seed=7).rescore(candidate).cached
    assert not rescorer(profile="quick").rescore(candidate).cached
    entry = rescorer().entry(candidate)
    assert entry.relative_to(store.root).parts[:4] == ("fake-task", "demo", "seed-42", fixed_hash(fake_task)[:16])


def test_a_crashing_region_is_recorded_as_failed_with_what_it_reached(fake_task, rescorer):
    files = {FAKE_FILE: baseline_candidate(fake_task, "better").files[FAKE_FILE].replace("CRASH_AT = None", "CRASH_AT = 3")}
    result = rescorer().rescore(Candidate(Name("agent:crashy", "agent"), files)).result
    assert result.status == "failed"
    assert result.settings["alpha"]["status"] == "failed" and result.settings["gamma"]["exit_code"] == 1
    assert [row["epoch"] for row in result.curves()["alpha"]] == [1.0, 2.0]


def test_a_killed_rescore_resumes_and_keeps_the_settings_that_finished(fake_task, store, tmp_path, rescorer):
    """SIGKILL the rescore process while the second setting trains: the next rescore
    re-attaches to that run (it lives in its own process group), keeps the first
    setting's result, and needs no second test."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MLSBENCH_RESULTS=str(store.root), MLSBENCH_SLOTS="1",
               FAKE_EPOCHS="4", FAKE_SLEEP="0.5", FAKE_SLOW_LABEL="beta", MLSBENCH_SESSIONS=str(tmp_path / "s"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--tasks-dir", str(FIXTURE_TASKS), "--data-root", str(tmp_path / "data"),
         "rescore", "--task", "fake-task", "--profile", "demo", "--baseline", "better"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    entry = rescorer().entry(baseline_candidate(fake_task, "better"))
    try:
        deadline = time.monotonic() + 60
        while not list(entry.glob("session/fake-task/*/tests/1/beta.log")):
            assert time.monotonic() < deadline and proc.poll() is None, "the rescore never reached beta"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the rescore only: the driver has its own process group
        proc.wait()
    session_dir = next((entry / "session" / "fake-task").iterdir())
    assert (session_dir / "tests" / "1" / "alpha.exit").exists()
    assert not (session_dir / "tests" / "1" / "beta.exit").exists()  # beta was still training
    alpha_log = (session_dir / "tests" / "1" / "alpha.log").read_text()

    outcome = rescorer().rescore(baseline_candidate(fake_task, "better"))
    assert not outcome.cached and outcome.result.status == "done"
    assert outcome.result.results["test_acc_beta"] == "71.00" and outcome.result.results["test_acc_gamma"] == "72.00"
    types = journal_types(session_dir)
    assert types.count("test_started") == 1  # no budget spent again
    assert (session_dir / "tests" / "1" / "alpha.log").read_text() == alpha_log  # alpha did not run again
    assert [row["epoch"] for row in outcome.result.curves()["beta"]] == [1.0, 2.0, 3.0, 4.0]


def test_a_cancelled_candidate_runs_its_test_again_on_the_next_rescore(fake_task, rescorer, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "0.3")
    first = rescorer()
    candidate = baseline_candidate(fake_task, "better")
    first.listener = lambda event: first.cancel()  # cancel at the first event
    with pytest.raises(RescoreFailed, match="cancelled; run the same rescore again to resume"):
        first.rescore(candidate)
    monkeypatch.setenv("FAKE_SLEEP", "0")
    outcome = rescorer().rescore(candidate)
    assert outcome.result.status == "done" and outcome.result.results["test_acc_alpha"] == "70.00"
    session_dir = next((outcome.result.dir / "session" / "fake-task").iterdir())
    assert journal_types(session_dir).count("test_started") == 2


def test_baselines_include_the_scaffold_default_first(fake_task):
    names = [c.name.entry for c in baseline_candidates(fake_task)]
    assert names == ["default", "baseline:default", "baseline:better"]


def test_a_region_with_changed_fixed_lines_is_refused_with_a_reason(fake_task):
    text = baseline_candidate(fake_task, "better").files[FAKE_FILE].replace("import time", "import os as time")
    with pytest.raises(CandidateError, match="fixed lines differ from the scaffold of fake-task"):
        Candidate(Name("agent:sneaky", "agent"), {FAKE_FILE: text}).region_hash(fake_task)


def test_results_lists_only_the_current_fixed_files(fake_task, rescorer, store):
    rescorer().rescore(baseline_candidate(fake_task, "better"))
    assert len(store.results("fake-task", "demo", fixed_hash(fake_task))) == 1
    assert store.results("fake-task", "demo", "0" * 64) == []
