"""Helpers for driving the Textual apps with Pilot in tests."""

from __future__ import annotations

import io
import time
from typing import Callable


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await pilot.pause(0.05)


def static_text(node, selector: str) -> str:
    """The plain text a Static below `node` shows (a Text, a string, or any Rich renderable)."""
    from rich.console import Console
    from textual.widgets import Static

    content = node.query_one(selector, Static).content
    if isinstance(content, str) or hasattr(content, "plain"):
        return str(getattr(content, "plain", content))
    console = Console(width=200, color_system=None, file=io.StringIO())
    with console.capture() as captured:
        console.print(content)
    return captured.get()
