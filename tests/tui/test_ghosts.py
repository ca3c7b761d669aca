"""Ghosts in the live view: each setting's plot shows the best baseline's and each agent's
re-scored curves on the session's profile (F12 toggles them), the metrics table their final
values; with nothing re-scored on the profile the legend says so."""

from __future__ import annotations

import asyncio
import sys

import pytest
from textual.widgets import Footer

from sessions.rescore import Rescorer
from sessions.rescore_candidates import agent_runs, baseline_candidate
from sessions.rescore_store import ResultsStore
from tests.pilot import wait_for
from tests.rescore.conftest import conversation
from tasks.catalog import Catalog
from tests.tui.conftest import make_app, notifications
from tests.tui.test_submitted import footer_actions
from tests.tui.test_snapshots import quiet
from tui.widgets.chart import ChartPlot
from tui.widgets.run_tabs import RunTabs
from tui.widgets.target_banner import TargetBanner

@pytest.fixture
def opponents(fake_task, catalog, tmp_path, monkeypatch):
    """The fake task re-scored on demo (seed 42): both baselines and one agent, in the
    results store the app reads (whole internal sessions: the tests using it are slow)."""
    monkeypatch.setenv("MLSBENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FAKE_EPOCHS", "3")
    rescorer = Rescorer(fake_task, ResultsStore(tmp_path / "results"), profile="demo", data_root=tmp_path / "data",
                        slots=[{}], python=sys.executable)
    for name in ("default", "better"):
        rescorer.rescore(baseline_candidate(fake_task, name))
    conversation(tmp_path / "agents", "a.json", [90], submit=1, model="strong")
    runs, _ = agent_runs(fake_task, [tmp_path / "agents"], catalog)
    rescorer.rescore(runs[0].candidate)


def plotted(panel) -> list[str]:
    """The labels of the lines the setting's plot draws now."""
    return [line.label for line in panel.query_one(ChartPlot)._chart.lines]


@pytest.mark.slow
async def test_ghosts_appear_with_their_final_values_and_f12_toggles_them(opponents, session_factory):
    session = session_factory()
    session.test()
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        alpha = app.main.runs.panels["alpha"]
        await wait_for(pilot, lambda: alpha.ghosts and alpha.ghosts.lines and alpha.drawn, what="the ghosts")
        assert plotted(alpha) == ["better (baseline)", "strong (agent)", "test #1"]
        assert [(g.name, g.value) for g in alpha.ghosts.lines] == [("better (baseline)", 70.0), ("strong (agent)", 90.0)]
        table = str(alpha.query_one("#metrics").content)
        assert [line.split()[0] for line in table.splitlines()[-2:]] == ["better", "strong"]
        assert table.splitlines()[-1].split()[3] == "90"  # the agent's final test_acc
        legend = str(alpha.query_one("#plot-legend").content)
        assert "ghosts: green better (baseline), magenta strong (agent)" in legend
        await pilot.press("f12")
        await wait_for(pilot, lambda: plotted(alpha) == ["test #1"] and alpha.drawn, what="the ghosts hidden")
        assert "strong" not in str(alpha.query_one("#metrics").content)
        assert "F12: show 2 ghost(s)" in str(alpha.query_one("#plot-legend").content)
        await pilot.press("f12")
        await wait_for(pilot, lambda: len(plotted(alpha)) == 3, what="the ghosts back")


async def test_a_fresh_demo_session_has_the_shipped_opponents_as_ghosts_and_f12_hides_them(session_factory):
    session = session_factory(task=Catalog().get("dl-activation-function"))  # as `make demo TASK=...` opens it
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        panels = app.main.runs.panels
        await wait_for(pilot, lambda: all(p.ghosts is not None and p.drawn for p in panels.values()), what="the ghosts")
        await wait_for(pilot, lambda: "Ghosts" in footer_actions(app), what="F12 in the footer")
        for panel in panels.values():  # before any test: the opponents' curves alone
            assert plotted(panel)[-1] == "deepseek-reasoner (agent)" and plotted(panel)[0].endswith("(baseline)")
        await pilot.press("f12")
        await wait_for(pilot, lambda: all(not plotted(p) for p in panels.values()), what="the ghosts hidden")
        assert any("ghosts are hidden" in n or "curves are hidden" in n for n in notifications(app))


async def test_at_100_columns_the_footer_with_f12_still_ends_with_help(session_factory):
    session = session_factory(task=Catalog().get("dl-activation-function"))
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "Ghosts" in footer_actions(app), what="F12 in the footer")
        await pilot.pause()
        keys = {key.description: key.region for key in app.main.query_one(Footer).query("FooterKey")}
        assert "Help" in keys and all(region.right <= 100 for region in keys.values())

async def test_with_nothing_re_scored_the_legend_says_so(session_factory):
    session = session_factory(profile="quick")
    session.test()
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        alpha = app.main.runs.panels["alpha"]
        await wait_for(pilot, lambda: alpha.run_key is not None and alpha.ghosts is not None and alpha.drawn,
                       what="test #1 from disk, and the ghosts read")
        assert "no ghosts: nothing re-scored on quick" in str(alpha.query_one("#plot-legend").content)
        assert "Ghosts" not in footer_actions(app)  # nothing to toggle


@pytest.mark.slow
def test_main_screen_with_ghosts_160x48(opponents, snap_compare, session_factory):
    session = session_factory()
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("50.0", "60.0"))
    session.test()

    async def before(pilot):
        await quiet(pilot, pilot.app)
        assert pilot.app.main.runs.panels["alpha"].ghosts.lines

    assert snap_compare(make_app(session), terminal_size=(160, 48), run_before=before)


@pytest.mark.slow  # re-scores the fake task while the app is open
async def test_a_re_score_finished_while_the_app_is_open_shows_as_ghosts(fake_task, catalog, session_factory,
                                                                        tmp_path, monkeypatch):
    monkeypatch.setattr(RunTabs, "REREAD_S", 0.2)
    monkeypatch.setattr(TargetBanner, "REREAD_S", 0.2)
    monkeypatch.setenv("MLSBENCH_RESULTS", str(tmp_path / "results"))
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        alpha = app.main.runs.panels["alpha"]
        await wait_for(pilot, lambda: alpha.ghosts is not None, what="the ghosts read")
        assert not alpha.ghosts.lines
        banner_before = str(app.main.query_one(TargetBanner).content)
        rescorer = Rescorer(fake_task, ResultsStore(tmp_path / "results"), profile="demo",
                            data_root=tmp_path / "data", slots=[{}], python=sys.executable)
        await asyncio.to_thread(rescorer.rescore, baseline_candidate(fake_task, "better"))  # as another terminal would
        await wait_for(pilot, lambda: alpha.ghosts.lines and alpha.drawn, what="the new ghost")
        assert plotted(alpha) == ["better (baseline)"]
        await wait_for(pilot, lambda: str(app.main.query_one(TargetBanner).content) != banner_before,
                       what="the banner naming the new target")
