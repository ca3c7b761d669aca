"""The replay's timeline: one line per step, with its icon, and the step shown highlighted.

In a file of several runs, a line `── run N ──` (not selectable) opens each run.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sessions.replay.model import (
    EDIT,
    SUBMIT,
    TEST,
    TEXT,
    UNDO,
    EditStep,
    Step,
    SubmitStep,
    TestStep,
    TextStep,
    UndoStep,
)

KIND_STYLE = {EDIT: "yellow", UNDO: "magenta", TEST: "cyan", SUBMIT: "bold green", TEXT: "dim"}


def short_summary(step: Step, with_file: bool = True) -> str:
    """A few words for the timeline (the detail pane has the whole summary)."""
    if isinstance(step, EditStep):
        span = f"{step.start}-{step.end}" if step.end >= step.start else f"+{step.start}"
        text = f"{os.path.basename(step.file)} {span}" if with_file else f"lines {span}"
        return text + (" refused" if step.refused else f" → {step.new_lines}")
    if isinstance(step, UndoStep):
        return f"undo {step.count}" + (" refused" if step.refused else "")
    if isinstance(step, TestStep):
        name = f"test #{step.n}" if step.n is not None else "test"
        return f"{name} refused" if step.refused else f"{name} {step.status}"
    if isinstance(step, SubmitStep):
        name = ("auto-submit" if step.auto else "submit") + (f" #{step.n}" if step.n is not None else "")
        return name + (" refused" if step.refused else "")
    if isinstance(step, TextStep):
        first = next((line.strip() for line in step.text.splitlines() if line.strip()), "")
        return f"{step.role}: {first}" if first else step.role
    return step.summary()


def step_prompt(step: Step, width: int = 3, with_file: bool = True) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{step.index:>{width}} ", style="dim")
    style = KIND_STYLE.get(step.kind, "")
    text.append(f"{step.icon} ", style=style)
    text.append(short_summary(step, with_file), style="dim" if step.kind == TEXT else "")
    return text


class Timeline(OptionList):
    """The steps of a replay; the highlighted option is the step on screen."""

    DEFAULT_CSS = """
    Timeline {
        width: 32; height: 1fr; border: round $panel-lighten-2; border-title-color: $text-muted;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    Timeline:focus { border: round $accent; }
    """

    def __init__(self, steps: list[Step], **kwargs) -> None:
        width = len(str(len(steps))) if steps else 1
        files = {s.file for s in steps if isinstance(s, EditStep)}
        with_file = len(files) > 1
        several_runs = len({s.run for s in steps}) > 1
        options, run = [], None
        for position, s in enumerate(steps, start=1):  # ids by position: a run split off keeps its steps' numbers
            if several_runs and s.run != run:
                run = s.run
                options.append(Option(Text(f"── run {run} ──", style="bold"), disabled=True))
            options.append(Option(step_prompt(s, width, with_file), id=str(position)))
        super().__init__(*options, **kwargs)
        self.border_title = f"Steps ({len(steps)})"

    def show_step(self, index: int) -> None:
        """Highlight step `index` (from 1) without moving focus; 0 clears the highlight."""
        target = self.get_option_index(str(index)) if index > 0 else None
        if self.highlighted != target:
            with self.prevent(OptionList.OptionHighlighted):  # not a choice by the person
                self.highlighted = target
        if target is not None:
            self.scroll_to_highlight()
