"""The final-results screen and the board (F3) show the same rows as the CLI, one profile only."""

from __future__ import annotations

from textual.widgets import DataTable, Tabs

from sessions.rescore_candidates import baseline_candidate
from tests.pilot import wait_for
from tests.tui.conftest import fast_driver, fixed_ids, make_app  # noqa: F401
from tui.screens.results import FinalResultsScreen, LeaderboardScreen


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_a_demo_submission_is_ranked_among_demo_opponents_only(session_factory, rescorer, fake_task):
    rescorer().rescore(baseline_candidate(fake_task, "better"))
    rescorer().rescore(baseline_candidate(fake_task, "default"))
    session = session_factory()
    session.replace_text("fake/fake_driver.py", session.file_state("fake/fake_driver.py").text.replace("50.0", "60.0"))
    session.test()
    session.submit(1)
    app = make_app(session)
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FinalResultsScreen))
        table = app.screen.query_one("#final-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3, what="the final table filled")
        rows = table_rows(table)
        assert [(r[0], r[1], r[6]) for r in rows] == [
            ("1", "baseline:better", "re-scored here"),
            ("2", "person:tester", "yours"),
            ("3", "baseline:default (default)", "re-scored here"),
        ]
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, LeaderboardScreen))
        board = app.screen
        await wait_for(pilot, lambda: board.shown == "demo" and board.query_one("#board-table", DataTable).row_count == 3)
        assert [r[1] for r in table_rows(board.query_one("#board-table", DataTable))] == [
            "baseline:better", "person:tester", "baseline:default (default)"]
        board.query_one("#profiles", Tabs).active = "profile-paper"
        await wait_for(pilot, lambda: board.shown == "paper" and board.query_one("#board-table", DataTable).row_count == 2)
        paper = table_rows(board.query_one("#board-table", DataTable))
        assert {r[6] for r in paper} == {"published"} and "person:tester" not in {r[1] for r in paper}
