"""The replay app: play back a session or an agent conversation, or compare two.

    from tui.replay_app import run_replay
    run_replay(Path("conversation.json"), catalog)                 # mlsbench-tui --replay PATH
    run_replay(Path("a.json"), catalog, compare=Path("b.json"))    # two side by side

Tests build `ReplayApp(load_replay(path, catalog), catalog=catalog)` and drive it with run_test().
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from sessions.replay.compare import compare
from sessions.replay.loader import ImportResult, load_replay
from sessions.replay.model import Replay
from tasks.spec import TaskSpec
from tui.screens.compare import CompareScreen
from tui.screens.replay import ReplayScreen

STYLES = Path(__file__).parent / "styles"
NOTICE_REASONS = 4  # skipped reasons quoted in the notice; `i` shows them all

Source = Union[ImportResult, Replay]


def _replay(source: Source) -> tuple[Replay, list[str]]:
    if isinstance(source, ImportResult):
        return source.replay, list(source.skipped or source.replay.skipped)
    return source, list(source.skipped)


class ReplayApp(App):
    CSS_PATH = [STYLES / "replay.tcss"]
    TITLE = "mlsbench-tui replay"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q,ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        source: Source,
        other: Source | None = None,
        *,
        catalog=None,
        task: TaskSpec | None = None,
        interval: float = 1.0,
    ) -> None:
        """source: the replay (or its ImportResult); other: a second one to compare with.
        catalog: where the task's spec (baselines, metric directions) is looked up;
        interval: seconds per step when playing at 1×."""
        super().__init__()
        self.replay, self.skipped = _replay(source)
        self.other: Replay | None = None
        self.other_skipped: list[str] = []
        if other is not None:
            self.other, self.other_skipped = _replay(other)
        self.catalog = catalog
        self._given_task = task
        self._task_cache: dict[str, TaskSpec | None] = {}
        self.interval = interval

    def task_for(self, replay: Replay) -> TaskSpec | None:
        """The task's spec from the catalog, where the replay names a task it knows."""
        if self._given_task is not None and (replay.task_id in (None, self._given_task.id)):
            return self._given_task
        task_id = replay.task_id
        if not task_id:
            return None
        if task_id not in self._task_cache:
            try:
                catalog = self.catalog
                if catalog is None:
                    from sessions.settings import current_settings
                    from tasks import Catalog

                    catalog = self.catalog = Catalog(current_settings().task_dirs)
                self._task_cache[task_id] = catalog.get(task_id)
            except Exception:  # unknown task, a broken spec, no catalog: no baselines
                self._task_cache[task_id] = None
        return self._task_cache[task_id]

    def get_default_screen(self) -> Screen:
        if self.other is None:
            return ReplayScreen(self.replay, self.task_for(self.replay), interval=self.interval)
        a, b = self.replay, self.other
        directions = {}
        task = self.task_for(a) or self.task_for(b)
        if task is not None:
            directions = task.metric_directions()

        def recompare(include_text: bool):
            return compare(a, b, directions, include_text=include_text)

        return CompareScreen(recompare(False), task, interval=self.interval, recompare=recompare)

    def on_mount(self) -> None:
        for label, reasons in (("", self.skipped), ("B: ", self.other_skipped)):
            if not reasons:
                continue
            if self.other is not None and not label:
                label = "A: "
            shown = [f"• {r}" for r in reasons[:NOTICE_REASONS]]
            if len(reasons) > NOTICE_REASONS:
                shown.append(f"… and {len(reasons) - NOTICE_REASONS} more (i shows them all)")
            self.notify(
                "\n".join(shown),
                title=f"{label}skipped or incomplete ({len(reasons)})",
                severity="warning",
                timeout=20,
                markup=False,
            )


def run_replay(path: Path, catalog=None, compare: Path | None = None) -> None:
    """Load a replay (and a second one to compare with) and run the app until the person quits.

    What could not be read is shown in the app as a notice (and under `i`);
    a path that cannot be replayed at all raises ReplayError (a Refused: the CLI prints it).
    """
    result = load_replay(Path(path), catalog)
    other = load_replay(Path(compare), catalog) if compare is not None else None
    ReplayApp(result, other, catalog=catalog).run()
