"""A whole session through the app on the fake driver: edit, three tests, submit, final table."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, ProgressBar

from tests.pilot import confirm_test, wait_for
from tests.pilot import static_text as pilot_static_text
from tests.tui.conftest import make_app, notifications, set_score, static_text
from tui.screens.dialogs import ConfirmDialog, SubmitDialog
from tui.screens.results import FinalResultsScreen

pytestmark = pytest.mark.slow  # a whole session: three tests and a submit


async def run_test(pilot, app, n: int) -> None:
    session = app.session
    left = session.state.budget_left
    assert f"spends 1 of your {left} remaining" in await confirm_test(pilot, app)
    await wait_for(pilot, lambda: len(session.state.tests) == n and session.state.tests[-1].finished,
                   what=f"test #{n} to finish")
    panel = app.main.runs.panels["alpha"]
    await wait_for(pilot, lambda: panel.status == "done" and app.main.runs.panels["beta"].status == "done",
                   what="both settings shown as done")
    await pilot.pause(0.2)


async def test_a_whole_session_edit_three_tests_submit_and_the_final_table(session_factory):
    session = session_factory()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert static_text(app, "#budget") == "Tests ●●● 3 of 3 left"
        assert "demo profile: scores not comparable" in static_text(app, "#facts")
        assert static_text(app, "#elapsed") == "work 0:00:00"  # the working clock starts as the app opens
        assert f"seed 42 · session {session.id}" in static_text(app, "#facts")

        budgets = []
        for n, score in ((1, "60.0"), (2, "65.0"), (3, "55.0")):
            await set_score(pilot, app, score)
            await run_test(pilot, app, n)  # unsaved edits are saved by the test dialog
            assert session.file_state("fake/fake_driver.py").lines[13] == f"SCORE = {score}"
            budgets.append(static_text(app, "#budget"))
            alpha = app.main.runs.panels["alpha"]
            await wait_for(pilot, lambda: any(line.startswith("TRAIN_METRICS: epoch=3") for line in alpha.log_view.lines),
                           what="the log read from disk")
            bar = alpha.query_one(ProgressBar)
            assert (bar.progress, bar.total) == (3, 3)
            assert "epoch 3/3" in str(alpha.query_one("#progress-text").content)
            assert [row["epoch"] for row in alpha.table_rows] == [1, 2, 3]
            header = pilot_static_text(alpha, "#metrics").splitlines()[0]
            assert header.split()[0] == "epoch" and len(header.split()) == 4  # (cut with … to fit)
            assert alpha.run_key.n == n
            if n > 1:
                assert alpha.previous and alpha.previous_name == f"test #{n - 1}"
            assert app.main.runs.panels["beta"].log_view.path == session.dir / "tests" / str(n) / "beta.log"
            history = app.main.query_one("#history-table", DataTable)
            assert history.row_count == n
            assert any(f"Test #{n} finished" in m for m in notifications(app))
        assert budgets[0] == "Tests ●●○ 2 of 3 left"
        assert budgets[1] == "Tests ●○○ 1 of 3 left"
        assert "none left" in budgets[2] and "submit" in budgets[2]
        assert session.state.tests[1].results()["test_acc_alpha"] == "65.00"

        # The diff of test 3 against test 2, in the history pane.
        app.main.query_one("#history").show_diff(3)
        diff = str(app.main.query_one("#diff").content)
        assert "-SCORE = 65.0" in diff and "+SCORE = 55.0" in diff

        # No budget left: the engine's refusal, as a notice.
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("no tests left" in m for m in notifications(app)), what="the refusal")
        assert len(session.state.tests) == 3

        # Submit: the best test (#2) is proposed; confirm; the hidden setting runs live.
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SubmitDialog), what="the submit dialog")
        table = app.screen.query_one("#submit-table", DataTable)
        assert table.row_count == 3 and table.cursor_row == 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the submit confirmation")
        assert "Submit test #2" in str(app.screen.query_one(".dialog-title").content)
        await pilot.press("enter")
        await wait_for(pilot, lambda: session.state.closed, what="the submission to finish")
        await wait_for(pilot, lambda: isinstance(app.screen, FinalResultsScreen), what="the final table")
        gamma = app.main.runs.panels["gamma"]
        assert gamma.run_key.phase == "submit" and gamma.lines_seen > 0 and gamma.status == "done"
        final = app.screen.query_one("#final-table", DataTable)
        rows = [[str(c) for c in final.get_row_at(i)] for i in range(final.row_count)]
        you = next(r for r in rows if r[6] == "yours")
        assert you[2:5] == ["65.00", "66.00", "67.00"]  # alpha, beta (test #2) and hidden gamma
        # Ranked among this profile's rows only: the published (paper) 70 of baseline:better is
        # not on a demo board, and the default is offered for re-scoring, not ranked.
        assert {r[1] for r in rows} == {"person:tester", "baseline:default (default)"}
        assert rows[0][:2] == ["1", "person:tester"] and rows[1][6] == "not measured"
        assert "not comparable with the published (paper) numbers, so none are shown" in str(
            app.screen.query_one(".note.warning").content)
        assert static_text(app, "#budget").startswith("Submitted test #2")
        assert session.final_results()["test_acc_gamma"] == "67.00"
