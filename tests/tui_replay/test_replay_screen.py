"""The replay screen driven with Pilot: stepping, playing, speeds, compare mode, bad input."""

from __future__ import annotations

import os
import sys

import pytest

from sessions.replay import EditStep, ReplayError, SubmitStep, TestStep, TextStep, load_replay
from tests.conftest import FAKE_FILE
from tests.pilot import static_text
from tests.tui_replay.conftest import SEEDS, fixture_path, wait_for
from tui.replay_app import ReplayApp, run_replay
from tui.replay_view import budget_at, setting_curve
from tui.screens.compare import CompareScreen
from tui.screens.replay import SPEEDS, InfoScreen, ReplayScreen

SIZE = (100, 30)


def clean(catalog):
    return load_replay(fixture_path("fake_clean.json"), catalog)


async def at(pilot, screen: ReplayScreen, index: int) -> None:
    """Step with the keys until step `index` is on screen."""
    while screen.index < index:
        await pilot.press("right")
    while screen.index > index:
        await pilot.press("left")
    await pilot.pause()


def check_step(screen: ReplayScreen, index: int) -> None:
    """The screen shows step `index` as the replay has it: budget, file, detail."""
    replay = screen.replay
    assert screen.index == index
    text, _ = budget_at(replay, index, replay.test_budget)
    assert static_text(screen, "#budget") == text
    path, state = screen.shown.path, screen.shown.state
    assert state is replay.files_at(index).get(path)
    assert screen.editor.text == (state.text if state is not None else "")
    assert screen.editor.read_only
    assert f"step {index}/{len(replay.steps)}" in static_text(screen, "#elapsed")
    step = replay.steps[index - 1]
    expected = "test" if isinstance(step, TestStep) and step.settings and not step.refused else "text"
    assert screen.shown.detail == expected


async def test_step_forward_and_back_show_the_replay_at_that_step(catalog):
    result = clean(catalog)
    replay = result.replay
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        check_step(screen, 1)
        assert "3 of 3 left" in static_text(screen, "#budget")
        # forward through every step, then back to the first
        for i in range(2, len(replay.steps) + 1):
            await at(pilot, screen, i)
            check_step(screen, i)
        for i in range(len(replay.steps) - 1, 0, -1):
            await at(pilot, screen, i)
            check_step(screen, i)
        # the edit at step 3: the file after it, the diff of its editable region, the new lines selected
        await at(pilot, screen, 3)
        step = replay.steps[2]
        assert isinstance(step, EditStep)
        assert "SCORE = 60.0\nEXTRA = 1\n" in screen.editor.text
        detail = static_text(screen, "#detail-body")
        assert "+SCORE = 60.0" in detail and "-SCORE = 50.0" in detail
        await pilot.pause()
        assert screen.editor.selected_text.startswith("SCORE = 60.0\nEXTRA = 1")
        # the test at step 5: 2 left, per-setting output and its curve; s shows the next setting
        await at(pilot, screen, 5)
        assert "2 of 3 left" in static_text(screen, "#budget")
        settings = static_text(screen, "#test-settings")
        assert "alpha done" in settings and "test_acc_alpha=60.00" in settings and "▸ ● alpha" in settings
        log = screen.query_one("#test-log")
        assert any("TRAIN_METRICS: epoch=5" in line for line in log.lines)
        await pilot.press("s")
        assert "▸ ● beta" in static_text(screen, "#test-settings")
        assert any("Final metrics (beta)" in line for line in log.lines)
        # the undo at step 7 restores the scaffold; the budget stays as the last test left it
        await at(pilot, screen, 7)
        assert "SCORE = 50.0" in screen.editor.text and "EXTRA" not in screen.editor.text
        assert "2 of 3 left" in static_text(screen, "#budget")
        # free text (the agent's reasoning) is shown whole
        await at(pilot, screen, 8)
        assert isinstance(replay.steps[7], TextStep)
        assert "A bigger score." in static_text(screen, "#detail-body")
        # the submission: the final table against the task's baselines
        await pilot.press("end")
        await pilot.pause()
        assert isinstance(screen.step, SubmitStep)
        assert static_text(screen, "#budget") == "Submitted test #2"
        body = static_text(screen, "#detail-body")
        for word in ("Final results", "baseline:default", "baseline:better", "test_acc_gamma", "82.00", "72.00"):
            assert word in body
        await pilot.press("home")
        await pilot.pause()
        assert screen.index == 1


async def test_playing_advances_on_a_timer_and_speed_changes_it(catalog):
    app = ReplayApp(clean(catalog), catalog=catalog, interval=0.4)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert not screen.playing and "paused 1×" in static_text(screen, "#activity")
        await pilot.press("space")
        assert screen.playing and "playing 1×" in static_text(screen, "#activity")
        await wait_for(pilot, lambda: screen.index >= 2, what="the first tick")
        # faster: twice the speed, the timer restarted at half the interval
        await pilot.press("plus")
        assert screen.speed == 2.0 and "playing 2×" in static_text(screen, "#activity")
        assert screen._timer is not None and abs(screen._timer._interval - 0.2) < 1e-9
        start = screen.index
        await wait_for(pilot, lambda: screen.index >= start + 2, what="two ticks at 2×")
        # pause: no more steps
        await pilot.press("space")
        stopped = screen.index
        assert not screen.playing and "paused 2×" in static_text(screen, "#activity")
        await pilot.pause(0.5)
        assert screen.index == stopped
        check_step(screen, stopped)
        # slower, bounded at both ends
        for _ in range(10):
            await pilot.press("minus")
        assert screen.speed == SPEEDS[0]
        for _ in range(10):
            await pilot.press("plus")
        assert screen.speed == SPEEDS[-1]
        # playing at the top speed runs to the end and stops there
        await pilot.press("space")
        await wait_for(pilot, lambda: not screen.playing, what="the end of the replay")
        assert screen.index == len(screen.replay.steps)
        check_step(screen, screen.index)


@pytest.fixture(scope="module")
def own_session(tmp_path_factory):
    """A real session of the fake task, made with the engine: edit, test, undo, edit, test, submit."""
    from sessions.engine import Session
    from tasks import Catalog
    from tests.conftest import FIXTURE_TASKS

    task = Catalog([FIXTURE_TASKS]).get("fake-task")
    root = tmp_path_factory.mktemp("own-replay")
    saved = {k: os.environ.get(k) for k in ("FAKE_EPOCHS", "FAKE_SLEEP")}
    os.environ.update(FAKE_EPOCHS="4", FAKE_SLEEP="0")
    s = Session.create(task, sessions_dir=root, profile="demo", data_root=root / "data",
                       python=sys.executable, slots=[{}])
    try:
        s.edit(FAKE_FILE, 14, 14, "SCORE = 60.0\nEXTRA = 1\n")
        s.test()
        s.undo()
        s.edit(FAKE_FILE, 14, 14, "SCORE = 75.0\n")
        s.test()
        s.submit(2)
    finally:
        s.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return s.dir


async def test_own_session_replays_with_budget_file_and_curves_at_each_step(own_session, catalog):
    result = load_replay(own_session, catalog)
    replay = result.replay
    assert result.skipped == []
    tests = replay.of_kind("test")
    assert [t.budget_left for t in tests] == [2, 1]
    assert all(setting_curve(s) for t in tests for s in t.settings)
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for i in range(1, len(replay.steps) + 1):
            await at(pilot, screen, i)
            check_step(screen, i)
            step = replay.steps[i - 1]
            if isinstance(step, TestStep):
                assert f"{step.budget_left} of 3 left" in static_text(screen, "#budget")
                assert screen.query_one("#test-legend") is not None
                assert screen.query_one("#test-log").line_count > 0
            if isinstance(step, EditStep) and step.applied:
                assert screen.editor.text == step.after.text
        assert "SCORE = 75.0" in screen.editor.text
        body = static_text(screen, "#detail-body")
        assert "Final results" in body and "test_acc_alpha" in body


async def test_compare_mode_shows_both_replays_side_by_side(catalog):
    a = clean(catalog)
    b = load_replay(fixture_path("fake_transcript.txt"), catalog)
    app = ReplayApp(a, b, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        table = screen.query_one("#compare-table")
        assert table.row_count == len(screen.cmp.rows) > 0
        headers = [str(c.label) for c in table.columns.values()]
        assert any(h.startswith("A: ") and "fake_clean.json" in h for h in headers)
        assert any(h.startswith("B: ") and "fake_transcript.txt" in h for h in headers)
        # tests sit beside tests, the submissions beside each other
        anchors = [(r.a.kind, r.b.kind) for r in screen.cmp.rows if r.a is not None and r.b is not None]
        assert ("test", "test") in anchors and ("submit", "submit") in anchors
        final = static_text(screen, "#compare-final")
        assert "test_acc_alpha" in final and "80.00" in final and "baseline:better" in final
        assert static_text(screen, "#compare-step-a").startswith("#")
        assert static_text(screen, "#compare-step-b").startswith("#")
        await pilot.press("down")
        await pilot.pause()
        row = screen.cmp.rows[1]
        assert static_text(screen, "#compare-step-a").startswith(f"#{row.a.index} ")
        assert static_text(screen, "#compare-step-b").startswith(f"#{row.b.index} ")
        # free text can be aligned too
        rows_before = table.row_count
        await pilot.press("t")
        assert table.row_count > rows_before
        # each side opens in the replay screen; Esc comes back
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen) and app.screen.replay is b.replay
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


@pytest.mark.parametrize(
    "name", ["fake_messy.json", "fake_truncated.json", "empty_conversation.json", "fake_transcript_messy.txt"]
)
async def test_malformed_input_shows_the_skipped_reasons(name, catalog):
    result = load_replay(fixture_path(name), catalog)
    assert result.skipped
    app = ReplayApp(result, catalog=catalog, interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = "\n".join(f"{n.title}\n{n.message}" for n in app._notifications)
        assert f"skipped or incomplete ({len(result.skipped)})" in shown
        assert result.skipped[0] in shown
        screen = app.screen
        # every key still works; nothing raises
        for key in ("right", "right", "s", "m", "left", "end", "home", "v", "v", "v"):
            await pilot.press(key)
        await pilot.press("space")
        await wait_for(pilot, lambda: not screen.playing, what="playing to the end")
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, InfoScreen)
        info = static_text(app.screen, "#info-text")
        assert all(reason in info for reason in result.skipped)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
    assert app.return_code in (None, 0)


async def test_garbage_and_missing_files(tmp_path, catalog):
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00\xff{\"messages\": [1, 2, {\"role\": 5}" + bytes(range(256)))
    result = load_replay(junk, catalog)
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right", "space", "end", "left")
        await pilot.pause()
        assert app._notifications or not result.skipped
    with pytest.raises(ReplayError):
        run_replay(tmp_path / "nothing-here.json", catalog)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="no published transcripts in shared/seeds")
async def test_published_transcripts_step_through():
    from tasks import Catalog

    catalog = Catalog()
    for path in sorted(SEEDS.iterdir())[:3]:
        result = load_replay(path, catalog)
        app = ReplayApp(result, catalog=catalog)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            for i in range(1, len(result.replay.steps) + 1):
                screen.go(i)
                if i % 7 == 0 or isinstance(result.replay.steps[i - 1], (TestStep, SubmitStep)):
                    await pilot.pause()
                    check_step(screen, i)
