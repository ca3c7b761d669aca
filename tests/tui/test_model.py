"""The app's pure parts: the event pump's bounds and the numbers the screens show."""

from __future__ import annotations

from sessions.events import LogLines, Progress, RunFinished, RunKey, SessionChanged, SettingStatus
from sessions.leaderboard import Row
from tui.bridge import EventPump
from sessions.leaderboard import mean_ranks
from tui.model import Curve, budget_text, eta_text, profile_note, series

KEY = RunKey("test", 1)


def test_the_pump_keeps_the_newest_lines_and_counts_the_rest():
    woken = []
    pump = EventPump(max_lines=5, wake=lambda: woken.append(1))
    for i in range(4):
        pump(LogLines(KEY, "alpha", [f"line {i}.{j}" for j in range(3)], [{"epoch": i}]))
        pump(Progress(KEY, "alpha", i, 10, "epoch", None))
    assert not woken  # lines and progress never wake the UI; its timer drains them
    batch = pump.drain()
    buf = batch.lines[(KEY, "alpha")]
    assert list(buf.lines) == ["line 2.1", "line 2.2", "line 3.0", "line 3.1", "line 3.2"]
    assert buf.dropped == 7
    assert batch.metrics[(KEY, "alpha")] == [{"epoch": i} for i in range(4)]
    assert batch.progress[(KEY, "alpha")].done == 3  # superseded: only the newest
    assert pump.drain().empty


def test_the_pump_wakes_the_ui_for_status_end_and_changes_and_merges_repeats():
    woken = []
    pump = EventPump(wake=lambda: woken.append(1))
    queued = SettingStatus(KEY, "beta", "queued")
    pump(queued)
    pump(queued)  # the engine repeats "queued" while a job waits
    pump(RunFinished(KEY, "feedback"))
    pump(SessionChanged("edit"))
    batch = pump.drain()
    assert batch.statuses == [queued] and len(batch.finished) == 1 and batch.changed == ["edit"]
    assert len(woken) == 3


def test_a_curve_stays_bounded_and_keeps_its_shape():
    curve = Curve(max_points=100)
    curve.add({"epoch": i, "acc": i / 10} for i in range(1, 10_001))
    assert 50 <= len(curve.points) <= 100 and curve.count == 10_000
    assert curve.points[0]["epoch"] == 1 and curve.points[-1]["epoch"] > 9_800
    xs, ys = series(curve.points, "acc", "epoch", max_points=20)
    assert len(xs) <= 25 and xs == sorted(xs)


def test_budget_text_counts_down_and_then_calls_to_submit(session_factory):
    session = session_factory()
    assert budget_text(session.state) == ("Tests ●●● 3 of 3 left", "ok")
    session.test()
    session.test()
    assert budget_text(session.state) == ("Tests ●○○ 1 of 3 left", "last")
    session.test()
    text, level = budget_text(session.state)
    assert level == "spent" and "none left" in text and "F9" in text and "submit" in text
    session.submit(3)
    assert budget_text(session.state) == ("Submitted test #3 · session closed", "closed")


def test_profile_notes_and_ranks(fake_task):
    assert "not comparable" in profile_note(fake_task, "demo")
    assert "comparable" in profile_note(fake_task, "paper") and "not" not in profile_note(fake_task, "paper")
    rows = [Row("a", "x", {"m": 1.0, "n": 5.0}), Row("b", "x", {"m": 2.0, "n": None}), Row("c", "x", {})]
    assert mean_ranks(rows, {"m": "max", "n": "min"}) == [1.5, 1.0, None]
    assert eta_text(75) == "ETA 1:15" and eta_text(None) == ""


async def test_a_full_stream_log_repaints_itself_when_old_lines_are_dropped():
    """Textual's Log, once at max_lines, keeps its scroll offset and repaints nothing when it
    drops as many lines as it adds: the screen would freeze on old lines."""
    from textual.app import App

    from tui.widgets.stream_log import StreamLog

    class LogApp(App):
        def compose(self):
            yield StreamLog(max_lines=20)

    app = LogApp()
    async with app.run_test(size=(40, 8)) as pilot:
        log = app.query_one(StreamLog)
        log.write_lines([f"old {i}" for i in range(20)])
        await pilot.pause()
        repaints = []
        original = log.refresh
        log.refresh = lambda *a, **k: repaints.append((a, k)) or original(*a, **k)
        log.write_lines([f"new {i}" for i in range(5)])
        assert ((), {}) in repaints  # a full repaint, not only the (dropped) new line numbers
        await pilot.pause()
        assert log.lines[-1] == "new 4" and len(log.lines) == 20


async def test_stream_log_draws_lines_as_log_does():
    from textual.app import App
    from textual.geometry import Region
    from textual.widgets import Log

    from tui.widgets.stream_log import StreamLog

    lines = ["plain line", "tab\there", "escape \x1b[31mred\x1b[0m gone", "wide 漢字 chars"]

    class LogApp(App):
        def compose(self):
            yield StreamLog(id="fast")
            yield Log(id="slow")

    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        fast, slow = app.query_one("#fast", StreamLog), app.query_one("#slow", Log)
        for log in (fast, slow):
            log.write_lines(lines)
        await pilot.pause()
        for y in range(len(lines)):
            mine = fast._render_line_strip(y, fast.rich_style)
            theirs = Log._render_line_strip(slow, y, fast.rich_style)
            assert mine.text == theirs.text and mine.cell_length == theirs.cell_length
        # The whole widget too (its style worked out once per repaint): same text, same colours.
        app.set_focus(None)  # (a focused log has another background)
        await pilot.pause()
        region = Region(0, 0, *fast.size)
        assert fast.size == slow.size
        drawn = [[(seg.text, seg.style.color, seg.style.bgcolor) for seg in strip]
                 for strip in fast.render_lines(region)]
        expected = [[(seg.text, seg.style.color, seg.style.bgcolor) for seg in strip]
                    for strip in slow.render_lines(region)]
        assert drawn == expected


def test_the_metrics_table_aligns_columns_and_cuts_the_widest_to_fit():
    from tui.widgets.runs import metrics_text

    rows = [{"epoch": 1, "train_loss": 1.0, "test_acc": 19.33}, {"epoch": 2, "train_loss": 0.5, "test_acc": 38.671234}]
    wide = metrics_text(rows, height=5, width=80).plain.split("\n")
    assert wide == ["epoch  train_loss  test_acc",
                    "    1           1     19.33",
                    "    2         0.5   38.6712"]
    assert metrics_text(rows, height=1, width=80).plain.split("\n")[1:] == ["    2         0.5   38.6712"]
    narrow = metrics_text(rows, height=5, width=22).plain.split("\n")
    assert all(len(line) <= 22 for line in narrow)
    assert narrow[0].split() == ["epoch", "train…", "test_a…"]


async def test_the_chart_is_built_off_the_ui_thread_and_again_for_a_new_theme():
    from textual.app import App

    from tests.pilot import wait_for
    from tui.widgets.chart import Chart, ChartPlot, PlotLine

    class PlotApp(App):
        def compose(self):
            yield ChartPlot(id="plot")

    app = PlotApp()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(ChartPlot)
        plot.show(Chart("test_acc", "epoch", (PlotLine((1.0, 2.0, 3.0), (10.0, 30.0, 35.0), "cyan", "test #1"),),
                        ((20.0, "green"),)))
        await wait_for(pilot, lambda: plot.settled, what="the figure")
        dark = plot.render()
        assert "test_acc" in dark.plain and "test #1" in dark.plain
        app.theme = "textual-light"
        await wait_for(pilot, lambda: plot.settled and plot.render() != dark, what="the figure in the new theme")
        assert plot.render().plain == dark.plain  # same figure, other colours
