"""Logs are read from disk: a finished run's whole log scrolls, and long lines wrap or scroll sideways."""

from __future__ import annotations

from textual.app import App, ComposeResult

from sessions.events import RunKey
from tests.pilot import wait_for
from tests.tui.conftest import make_app
from tui.widgets.file_log import FileLog


def shown(log: FileLog) -> list[str]:
    """The text of the rows the view draws now."""
    return [log.render_line(y).text.rstrip() for y in range(log.size.height)]


async def test_a_finished_runs_whole_long_log_scrolls_to_its_first_and_last_line(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_SPAM", "16667")  # 3 epochs: 50,001 spam lines and the driver's own
    session = session_factory()
    session.test()
    on_disk = (session.dir / "tests" / "1" / "alpha.log").read_text().splitlines()
    assert len(on_disk) > 50_000
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        alpha = app.main.runs.panels["alpha"]
        await wait_for(pilot, lambda: alpha.run_key == RunKey("test", 1), what="test #1 from disk")
        log = alpha.log_view
        await wait_for(pilot, lambda: log.line_count == len(on_disk), what="the whole log indexed")
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert shown(log)[0] == on_disk[0] and not any("skipped" in line for line in shown(log))
        await pilot.press("end")
        await pilot.pause()
        assert on_disk[-1] in shown(log) and on_disk[-1].startswith("FINAL_METRICS")
        log.scroll_to(y=30_000, animate=False, immediate=True)  # any line in between, read from disk
        await pilot.pause()
        assert shown(log)[0] == on_disk[30_000]


class LogApp(App):
    def __init__(self, path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        yield FileLog(id="log")

    def on_mount(self) -> None:
        log = self.query_one(FileLog)
        log.show_file(self.path)
        log.focus()


async def test_w_toggles_wrapping_and_unwrapped_lines_scroll_sideways(tmp_path):
    long = "".join(f"{i:03d}-" for i in range(100))  # 400 columns
    path = tmp_path / "run.log"
    path.write_text(f"first\n{long}\nlast\n")
    app = LogApp(path)
    async with app.run_test(size=(80, 12)) as pilot:
        log = app.query_one(FileLog)
        await pilot.pause()
        assert shown(log)[1] == long[:80] and log.virtual_size.width > 80
        await pilot.press("right", "right")
        assert log.scroll_offset.x > 0 and shown(log)[1] == long[log.scroll_offset.x:log.scroll_offset.x + 80]
        await pilot.press("w")
        await pilot.pause()
        width = log.scrollable_content_region.width
        assert log.wrap and log.virtual_size.width == width and log.scroll_offset.x == 0
        rows = shown(log)
        assert rows[0] == "first" and "".join(rows[1:1 + -(-len(long) // width)]) == long
        assert rows[1 + -(-len(long) // width)] == "last"
        await pilot.press("w")
        await pilot.pause()
        assert not log.wrap and shown(log)[:3] == ["first", long[:80], "last"]


async def test_a_growing_log_is_followed_at_its_end(tmp_path):
    path = tmp_path / "run.log"
    path.write_text("".join(f"line {i}\n" for i in range(100)))
    app = LogApp(path)
    async with app.run_test(size=(80, 12)) as pilot:
        log = app.query_one(FileLog)
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        with path.open("a") as fh:
            fh.write("line 100\nline 101 (still being writ")
        assert log.poll()
        await pilot.pause()
        assert shown(log)[-2:] == ["line 100", "line 101 (still being writ"]
        with path.open("a") as fh:
            fh.write("ten)\n")
        assert log.poll()
        await pilot.pause()
        assert shown(log)[-1] == "line 101 (still being written)" and log.line_count == 102


async def test_a_finished_run_opens_at_the_end_of_its_log(session_factory, monkeypatch):
    monkeypatch.setenv("FAKE_SPAM", "10")  # a log longer than the view
    session = session_factory()
    session.test()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.main.runs.panels["alpha"].log_view
        await wait_for(pilot, lambda: log.line_count > 30 and log.max_scroll_y > 0, what="the log indexed and laid out")
        await pilot.pause(0.2)
        assert log.scroll_y == log.max_scroll_y  # its end (the results) in view, as a log reader opens it
