"""The target banner: the metric and its direction, the best baseline and agent of this
profile's one leaderboard (never another profile's), and on demo what a demo run trains."""

from __future__ import annotations

import re

import pytest

from sessions.leaderboard import PUBLISHED, RESCORED_SHIPPED, Board, Row
from tasks.catalog import Catalog
from tests.pilot import static_text, wait_for
from tests.tui.conftest import make_app
from tui.target import banner_lines
from tui.widgets.target_banner import TargetBanner


def board(rows: list[Row], ranks: list[float | None], profile: str = "demo") -> Board:
    return Board("fake-task", profile, profile == "paper", {"test_acc_alpha": "max", "test_acc_beta": "max"}, rows, ranks)


def test_the_best_ranked_baseline_and_agent_with_the_visible_settings_values(fake_task):
    rows = [Row("agent:strong", "agent", {"test_acc_alpha": 90.0, "test_acc_beta": 91.0, "test_acc_gamma": 92.0},
                provenance=RESCORED_SHIPPED),
            Row("baseline:better", "baseline", {"test_acc_alpha": 70.0, "test_acc_beta": 71.0},
                provenance=RESCORED_SHIPPED),
            Row("baseline:default", "baseline", {"test_acc_alpha": 50.0, "test_acc_beta": 51.0},
                provenance=RESCORED_SHIPPED)]
    lines = banner_lines(fake_task, "demo", board(rows, [1.0, 2.0, 3.0]))
    assert lines == ["To beat (test_acc ↑): baseline better 70.00/71.00 · agent strong 90.00/91.00 "
                     "· the best on demo, re-scored (shipped)",
                     "demo: Fake demo profile. Scores are not comparable with published ones."]


def test_with_nobody_to_beat_the_second_line_starts_with_the_command_that_measures_them(fake_task):
    not_measured = Row("default", "baseline", {}, provenance="not measured")
    first, second = banner_lines(fake_task, "quick", board([not_measured], [None], "quick"))
    assert "nothing re-scored on quick yet" in first
    assert second.startswith("mlsbench-tui rescore --task fake-task --profile quick --baselines · quick:")


def test_a_comparable_profile_has_no_plan_line_and_names_published_rows(fake_task):
    rows = [Row("baseline:better", "baseline", {"test_acc_alpha": 70.0, "test_acc_beta": 71.0}, provenance=PUBLISHED)]
    assert banner_lines(fake_task, "paper", board(rows, [1.0], "paper")) == [
        "To beat (test_acc ↑): baseline better 70.00/71.00 · no agent on paper yet · the best on paper, published"]


@pytest.mark.parametrize("profile", ["demo", "quick"])
async def test_a_fresh_demo_session_of_a_shipped_task_has_its_target_and_ghosts(session_factory, profile):
    task = Catalog().get("cv-multitask-loss")
    session = session_factory(profile=profile, task=task)
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        banner = app.main.query_one(TargetBanner)
        panel = app.main.runs.panels["resnet20-cifar100mt"]
        await wait_for(pilot, lambda: banner.board is not None and panel.ghosts is not None, what="board and ghosts")
        await pilot.pause()
        first, second = static_text(app.main, "#target").splitlines()
        if profile == "demo":  # the shipped demo reference: the default and the seed agent, re-scored
            assert re.fullmatch(r"To beat \(test_acc ↑\): baseline .+ [\d.]+/[\d.]+ · agent deepseek-reasoner "
                                r"[\d.]+/[\d.]+ · the best on demo, re-scored \(shipped\)", first), first
            assert second.startswith("demo runs 4 epochs on 1,536 generated images")
            assert [g.name for g in panel.ghosts.lines][-1] == "deepseek-reasoner (agent)"
            assert "(baseline)" in panel.ghosts.lines[0].name
        else:  # nothing of demo on quick
            assert "nothing re-scored on quick yet" in first and not panel.ghosts.lines
            assert second.startswith("mlsbench-tui rescore --task cv-multitask-loss --profile quick --baselines")
