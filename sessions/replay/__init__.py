"""Replays: our own sessions and published MLS-Bench agent conversations, step by step.

    result = load_replay(Path("conversation.json"), catalog)
    for line in format_replay(result.replay):
        print(line)
    result.skipped  # what was left out, and why

Sources: a session directory or its journal.jsonl; an agent conversation
exported as JSON; the plain-text transcript of one. The format is detected
from the path and the file.
"""

from sessions.replay.as_json import replay_dict
from sessions.replay.compare import Comparison, MetricRow, Row, compare, format_compare
from sessions.replay.loader import ImportResult, NotAConversation, ReplayError, detect_format, load_replay
from sessions.replay.model import (
    EDIT,
    KINDS,
    SUBMIT,
    TEST,
    TEXT,
    UNDO,
    EditStep,
    Replay,
    SettingResult,
    Step,
    SubmitStep,
    TestStep,
    TextStep,
    UndoStep,
)
from sessions.replay.render import format_replay, step_lines, write_replay

__all__ = [
    "EDIT", "KINDS", "SUBMIT", "TEST", "TEXT", "UNDO",
    "Comparison", "EditStep", "ImportResult", "MetricRow", "NotAConversation", "Replay", "ReplayError", "Row",
    "SettingResult", "Step", "SubmitStep", "TestStep", "TextStep", "UndoStep",
    "compare", "detect_format", "format_compare", "format_replay", "load_replay", "replay_dict", "step_lines",
    "write_replay",
]
