"""An agent conversation as both importers read it: messages, file snapshots, and what a tool call was.

The JSON export and the plain-text transcript each fill a `Conversation`;
`sessions.replay.agent` pairs its calls with their results and makes the steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EDIT_TOOLS = {"edit", "edit_file", "replace", "replace_lines", "str_replace"}
TEST_TOOLS = {"test", "run_test", "run_tests"}
UNDO_TOOLS = {"undo", "undo_edit"}
SUBMIT_TOOLS = {"submit", "submit_result"}


@dataclass
class AgentMessage:
    role: str  # user | assistant | tool_result
    step: int | None = None
    text: str = ""  # user content, assistant text, or the tool's result
    thinking: str = ""
    tool: str | None = None
    tool_input: dict[str, Any] | None = None
    input_truncated: bool = False  # the tool input was cut (its last string value is partial)
    truncated: bool = False  # the text was cut
    time: str | None = None
    new_run: bool = False  # the source says a new run begins here
    notes: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    step: int | None
    filename: str
    content: str
    original_name: str | None = None
    run: int = 1


@dataclass
class Conversation:
    source: str  # agent-json | agent-text
    path: str
    task_id: str | None = None
    model: str | None = None
    total_steps: int | None = None
    messages: list[AgentMessage] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def classify_result(text: str) -> str | None:
    """Which tool a result text came from, when it says so."""
    head = text.lstrip()[:300]
    if head.startswith("OK: Replaced") or head.startswith("OK: Inserted") or head.startswith("OK: Deleted"):
        return "edit"
    if head.startswith("Undo complete") or head.startswith("Nothing to undo"):
        return "undo"
    if head.startswith("[submit]"):
        return "submit"
    if head.startswith("[Test #"):
        return "test"
    return None


def tool_kind(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    for kind, names in (("edit", EDIT_TOOLS), ("test", TEST_TOOLS), ("undo", UNDO_TOOLS), ("submit", SUBMIT_TOOLS)):
        if name in names:
            return kind
    return None


def reattach_late_results(messages: list[AgentMessage]) -> list[AgentMessage]:
    """The messages, with a call's result that was logged after the next run's prompt moved back to its call.

    Runs begin where the builder sees them begin (a new object, or the step
    counter going back); a result that arrives after such a start, before
    any other call, answers the last call of the run before.
    """
    out: list[AgentMessage] = []
    waiting: int | None = None  # index in `out` of a call still without its result
    run_start: int | None = None  # where a run began after that call
    prev: int | None = None
    for msg in messages:
        if msg.new_run or (msg.step is not None and prev is not None and msg.step < prev):
            run_start = len(out) if waiting is not None else None
        if (msg.role == "tool_result" and waiting is not None and run_start is not None
                and msg.step in (None, out[waiting].step)):
            out[waiting].notes.append("its result was logged after the next run's prompt")
            out.insert(run_start, msg)
            waiting = run_start = None
            continue
        if msg.step is not None:
            prev = msg.step
        if msg.role == "assistant":
            waiting = len(out) if (msg.tool or msg.tool_input is not None) else None
            run_start = None
        elif msg.role == "tool_result":
            waiting = run_start = None
        out.append(msg)
    return out


def int_arg(value: Any) -> int | None:
    """A tool argument as a whole number (None: absent or not one)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def short_arg(value: Any, limit: int = 60) -> str:
    """A tool argument on one short line, for a note."""
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"
