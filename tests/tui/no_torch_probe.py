"""Run by test_no_torch.py in a fresh interpreter: the app runs a whole test, then reports
which heavy modules this process imported. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def main() -> dict:
    from sessions.engine import Session
    from tasks import Catalog
    from tui.app import MlsBenchApp
    from tui.screens.dialogs import ConfirmDialog

    task = Catalog([ROOT / "tests" / "fixtures" / "tasks"]).get("fake-task")
    with tempfile.TemporaryDirectory() as tmp:
        session = Session.create(task, sessions_dir=Path(tmp), profile="demo", slots=[{}])
        app = MlsBenchApp(session, animate=False, watch=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press("f5")
            deadline = time.monotonic() + 30
            while not isinstance(app.screen, ConfirmDialog) and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.press("enter")
            while not (session.state.tests and session.state.tests[-1].finished) and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.pause(0.3)
            finished = bool(session.state.tests and session.state.tests[-1].finished)
            lines = app.main.runs.panels["alpha"].lines_seen
        app.close_session()
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "torchvision", "drivers"})
    return {"finished": finished, "lines": lines, "heavy": heavy, "textual": "textual" in sys.modules}


if __name__ == "__main__":
    os.environ.setdefault("FAKE_EPOCHS", "3")
    os.environ["FAKE_SLEEP"] = "0"
    print(json.dumps(asyncio.run(main())))
