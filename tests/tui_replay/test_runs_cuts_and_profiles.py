"""The replay screen: runs marked and started from the scaffold, the editor on the changed lines,
what the source cut, and a compare across profiles that calls neither side better."""

from __future__ import annotations

import json

import pytest

from sessions.replay import compare, load_replay
from sessions.state import FileState
from tests.conftest import FAKE_FILE
from tests.pilot import static_text
from tests.tui_replay.conftest import SEEDS, fixture_path, wait_for
from tui.replay_app import ReplayApp
from tui.screens.compare import CompareScreen
from tui.screens.replay import ReplayScreen, info_lines
from tui.widgets.timeline import Timeline

SIZE = (100, 30)


def shape(catalog, name: str):
    return load_replay(fixture_path(f"shapes/{name}.json"), catalog)


def scaffold_of(fake_task) -> FileState:
    f = fake_task.file(FAKE_FILE)
    return FileState.from_text(f.source.read_text(encoding="utf-8"), f.editable)


async def test_each_run_starts_from_the_scaffold_and_is_marked_in_the_step_list(catalog, fake_task):
    result = shape(catalog, "late_result")
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        timeline = screen.query_one(Timeline)
        marks = [timeline.get_option_at_index(i) for i in range(timeline.option_count)]
        headers = [str(o.prompt) for o in marks if o.disabled]
        assert headers == ["── run 1 ──", "── run 2 ──"]
        assert [o.id for o in marks if not o.disabled] == [str(s.index) for s in result.replay.steps]
        second_run = next(s for s in result.replay.steps if s.run == 2)
        for index in (1, second_run.index):  # the first step of each run: its prompt
            screen.go(index)
            await pilot.pause()
            assert screen.shown.state == scaffold_of(fake_task)
            assert screen.editor.text == scaffold_of(fake_task).text
            assert "not known" not in str(screen.query_one("#replay-editor-pane").border_subtitle)
            assert timeline.get_option_at_index(timeline.highlighted).id == str(index)


async def test_the_scaffold_is_shown_before_any_edit_was_applied(catalog, fake_task):
    """A run whose first edits were refused (one of an unnamed file) still shows the task's file."""
    result = shape(catalog, "refusals")
    first_applied = next(s for s in result.replay.steps if s.kind == "edit" and not s.refused)
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for index in range(1, first_applied.index):
            screen.go(index)
            await pilot.pause()
            assert (screen.shown.path, screen.shown.state) == (FAKE_FILE, scaffold_of(fake_task))


async def test_the_editor_selects_the_lines_an_undo_restored(catalog):
    result = shape(catalog, "undo_many")
    undo2 = result.replay.of_kind("undo")[0]
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.go(undo2.index)
        await wait_for(pilot, lambda: screen.editor.selection.start == (14, 0))
        assert screen.editor.selection.end == (16, 0)  # lines 15-16, as they were after the first edit


@pytest.mark.skipif(not SEEDS.is_dir(), reason="no published transcripts in shared/seeds")
async def test_the_editor_scrolls_to_the_lines_a_step_changed():
    path = next(SEEDS.glob("001_*.txt"), None)
    if path is None:
        pytest.skip("seed 001 not found")
    result = load_replay(path)
    edits = result.replay.of_kind("edit")
    undo = result.replay.of_kind("undo")[0]
    app = ReplayApp(result)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for step in (edits[0], undo, edits[-1]):
            screen.go(step.index)
            await wait_for(pilot, lambda: screen.editor.scroll_offset.y > 150)
            top = screen.editor.scroll_offset.y
            assert top <= 195 <= top + screen.editor.size.height  # line 195 (0-based 194 or 195) in view


async def test_the_info_box_says_what_the_source_cut(catalog, tmp_path):
    data = json.loads(fixture_path("shapes/undo_many.json").read_text(encoding="utf-8"))
    data["messages"][0]["content_truncated"] = True
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    replay = load_replay(path, catalog).replay
    lines = info_lines(replay)
    assert "Cut short in the source (1):" in lines
    assert any(line.startswith("  - step 1 (user: Task: fake-task") and "the text is cut short" in line
               for line in lines)
    assert "Nothing was skipped or cut." not in lines
    assert "Nothing was skipped or cut." in info_lines(shape(catalog, "undo_many").replay)


def test_compare_across_profiles_calls_neither_better(catalog, fake_task):
    agent = shape(catalog, "auto_submit").replay
    mine = shape(catalog, "multi_seed").replay
    mine.profile = "demo"
    cmp = compare(mine, agent, fake_task.metric_directions())
    assert not cmp.same_protocol and cmp.profiles == ("demo", "paper")
    assert all(row.better is None for row in cmp.final) and cmp.final
    assert cmp.protocol_note() == ("A ran profile demo, B ran profile paper: their numbers are not comparable, "
                                   "so neither is called better")
    same = compare(shape(catalog, "multi_seed").replay, agent, fake_task.metric_directions())
    assert same.same_protocol and {row.better for row in same.final} == {"b"}


async def test_compare_screen_says_the_profiles_differ_and_sizes_the_step_list(catalog):
    agent = shape(catalog, "auto_submit")
    mine = shape(catalog, "multi_seed")
    mine.replay.profile = "demo"
    app = ReplayApp(mine, agent, catalog=catalog)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await pilot.pause()
        final = static_text(screen, "#compare-final")
        assert "A ran profile demo, B ran profile paper" in final
        table = screen.query_one("#compare-table")
        assert table.row_count == len(screen.cmp.rows)
        assert table.size.height == table.row_count + 1  # the header and the rows, no empty rows
        assert screen.query_one("#compare-detail").size.height > 6


async def test_an_auto_submission_is_named_so_in_the_step_list_and_header(catalog):
    result = shape(catalog, "auto_submit")
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        timeline = screen.query_one(Timeline)
        last = timeline.get_option_at_index(timeline.option_count - 1)
        assert "auto-submit #3" in str(last.prompt)
        screen.go(len(result.replay.steps))
        await pilot.pause()
        assert static_text(screen, "#budget") == "Submitted test #3"


async def test_a_run_split_off_steps_through_by_position(catalog, fake_task):
    second = shape(catalog, "late_result").replay.split_runs()[1]
    app = ReplayApp(second, catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        timeline = screen.query_one(Timeline)
        for position in range(1, len(second.steps) + 1):
            screen.go(position)
            await pilot.pause()
            assert screen.step is second.steps[position - 1]
            assert timeline.get_option_at_index(timeline.highlighted).id == str(position)
        assert screen.shown.state == scaffold_of(fake_task).edited(14, 14, "SCORE = 58.0\n")


async def test_a_multi_seed_test_shows_the_mean_and_each_seed(catalog):
    result = shape(catalog, "multi_seed")
    test = result.replay.tests()[0]
    app = ReplayApp(result, catalog=catalog)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.screen
        screen.go(test.index)
        await pilot.pause()
        lines = static_text(screen, "#test-settings").splitlines()
        assert "test_acc_alpha=62.00  mean of seeds (42: 60.00, 123: 61.00, 456: 65.00)" in lines[0]
