"""The history pane's diffs number lines as the file does, as the replay's edits do."""

from __future__ import annotations

from sessions.replay import load_replay
from sessions.replay.model import EditStep
from tests.conftest import FAKE_FILE
from tests.pilot import wait_for
from tests.tui.conftest import make_app
from tui.diffs import diff_of_test

SCORE_LINE = 14  # SCORE = 50.0 is line 14 of the fake driver (the first editable line)


def change_score(session, old: str, new: str) -> None:
    session.replace_text(FAKE_FILE, session.file_state(FAKE_FILE).text.replace(f"SCORE = {old}", f"SCORE = {new}"))


async def test_history_hunks_count_from_the_files_first_line(session_factory):
    session = session_factory()
    change_score(session, "50.0", "60.0")
    session.test()
    change_score(session, "60.0", "62.5")
    session.test()
    hunk = f"@@ -{SCORE_LINE - 2},5 +{SCORE_LINE - 2},5 @@"  # two lines of context each side
    assert diff_of_test(session, 1)[:3] == [f"--- {FAKE_FILE} (scaffold)", f"+++ {FAKE_FILE} (test #1)", hunk]
    assert diff_of_test(session, 2)[2:] == [hunk, *[f" {line}" for line in session.file_state(FAKE_FILE).lines[11:13]],
                                           "-SCORE = 60.0", "+SCORE = 62.5",
                                           *[f" {line}" for line in session.file_state(FAKE_FILE).lines[14:16]]]
    # The replay of the same session numbers its edit of line 14 the same way.
    edits = [s for s in load_replay(session.dir).replay.steps if isinstance(s, EditStep)]
    replay_hunks = [line for line in edits[-1].diff(context=2) if line.startswith("@@")]
    assert replay_hunks == [hunk]

    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        history = app.main.query_one("#history")
        await wait_for(pilot, lambda: history._shown == 2, what="the history of test #2")
        history.show_diff(1)
        assert hunk in str(app.main.query_one("#diff").content)
