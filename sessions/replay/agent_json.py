"""Reading MLS-Bench agent conversations exported as JSON.

    {"task_id": ..., "model": ..., "model_slug": ..., "total_steps": N,
     "messages": [{"step": 0, "role": "user", "content": ..., "content_truncated": false},
                  {"step": 1, "role": "assistant", "thinking": ..., "tool_name": "edit",
                   "tool_input": {"op": "replace", "filename": ..., "start_line": ..,
                                  "end_line": .., "content": ...}},
                  {"step": 1, "role": "tool_result", "result": "OK: Replaced lines ..."}, ...],
     "file_snapshots": [{"step": .., "filename": .., "original_name": .., "content": ..}]}

Real files are messy, and each mess is read as far as it goes: several
objects concatenated (or a list of them), a step counter that restarts at 0
within one object (a new run), missing keys, tool inputs stored as JSON
strings, a file cut off mid-way (the complete messages before the cut are
kept), bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from sessions.replay.conversation import AgentMessage, Conversation, Snapshot

TIME_KEYS = ("timestamp", "time", "created_at", "ts")
_DECODER = json.JSONDecoder()


def _objects(text: str, skipped: list[str]) -> list[Any]:
    """Every top-level JSON value in the text (concatenated objects, JSON lines)."""
    out, pos, size = [], 0, len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n,\ufeff":
            pos += 1
        if pos >= size:
            return out
        try:
            obj, pos = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            salvaged = _salvage(text[pos:], skipped)
            if salvaged is not None:
                out.append(salvaged)
            else:
                skipped.append(f"unreadable JSON from character {pos} on ({exc.msg}); left out")
            return out
        out.append(obj)


_KEY = re.compile(r'"(task_id|model|model_slug|total_steps)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')


def _salvage(text: str, skipped: list[str]) -> dict[str, Any] | None:
    """A conversation object cut off mid-way: its header keys and its complete messages."""
    head: dict[str, Any] = {}
    for m in _KEY.finditer(text[:20000]):
        try:
            head.setdefault(m.group(1), json.loads(m.group(2)))
        except ValueError:
            pass
    recovered = False
    for key in ("messages", "file_snapshots"):
        m = re.search(r'"%s"\s*:\s*\[' % key, text)
        if m is None:
            continue
        items, pos = [], m.end()
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            try:
                item, pos = _DECODER.raw_decode(text, pos)
            except ValueError:
                skipped.append(f"the file is cut off inside {key!r}: {len(items)} complete entries kept, the rest is lost")
                break
            items.append(item)
        head[key] = items
        recovered = True
    if not recovered and not head:
        return None
    if not recovered:
        skipped.append("the file is cut off before its messages")
    return head


def _time(msg: dict[str, Any]) -> str | None:
    for key in TIME_KEYS:
        value = msg.get(key)
        if value in (None, "") or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):  # seconds (or milliseconds) since the epoch
            seconds = value / 1000 if value > 1e11 else value
            try:
                return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
            except (OverflowError, OSError, ValueError):
                return str(value)
        return str(value)
    return None


def _step(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content blocks: [{"type": "text", "text": ...}]
        parts = []
        for block in value:
            if isinstance(block, dict):
                parts.append(str(block.get("text") or block.get("content") or ""))
            else:
                parts.append(str(block))
        return "\n".join(p for p in parts if p)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


def _tool_input(value: Any, notes: list[str]) -> tuple[dict[str, Any] | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, dict):
        return value, bool(value.get("content_truncated") or value.get("truncated"))
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
            if isinstance(parsed, dict):
                return parsed, False
        except ValueError:
            from sessions.replay.agent_text import lenient_object

            parsed, complete = lenient_object(value)
            if parsed:
                if not complete:
                    notes.append("the tool input is cut short in the source")
                return parsed, not complete
        notes.append("the tool input could not be read")
        return {"raw": value}, False
    notes.append(f"the tool input is a {type(value).__name__}, not an object")
    return {"raw": value}, False


def _role(msg: dict[str, Any]) -> str | None:
    role = msg.get("role")
    if isinstance(role, str) and role:
        role = role.lower()
        return {"tool": "tool_result", "function": "tool_result", "system": "user", "human": "user", "ai": "assistant"}.get(role, role)
    if "tool_name" in msg or "tool_input" in msg or "thinking" in msg:
        return "assistant"
    if "result" in msg:
        return "tool_result"
    if "content" in msg:
        return "user"
    return None


def _message(msg: Any, number: int, conv: Conversation) -> AgentMessage | None:
    if not isinstance(msg, dict):
        conv.skipped.append(f"message {number}: not an object ({type(msg).__name__}); left out")
        return None
    role = _role(msg)
    if role is None:
        conv.skipped.append(f"message {number}: no role and nothing to tell it by (keys: {', '.join(sorted(msg)) or 'none'}); left out")
        return None
    out = AgentMessage(role=role, step=_step(msg.get("step")), time=_time(msg))
    if role == "assistant":
        out.thinking = _text(msg.get("thinking") or msg.get("reasoning"))
        out.text = _text(msg.get("content") or msg.get("text"))
        tool = msg.get("tool_name") or msg.get("tool")
        out.tool = str(tool) if tool else None
        out.tool_input, out.input_truncated = _tool_input(msg.get("tool_input", msg.get("arguments")), out.notes)
        if out.tool is None and out.tool_input is not None:
            out.tool = "?"
    elif role == "tool_result":
        value = msg.get("result", msg.get("content", msg.get("output")))
        out.text = _text(value)
        if value is None:
            out.notes.append("the tool result has no text in the source")
        out.truncated = bool(msg.get("result_truncated") or msg.get("truncated"))
    else:
        out.text = _text(msg.get("content", msg.get("text")))
        out.truncated = bool(msg.get("content_truncated"))
    if out.truncated:
        out.notes.append("the text is cut short in the source")
    return out


def _conversation_from(obj: Any, conv: Conversation, index: int) -> None:
    if isinstance(obj, list):
        if obj and all(isinstance(o, dict) and "messages" in o for o in obj):
            for sub in obj:
                _conversation_from(sub, conv, index)
                index += 1
            return
        obj = {"messages": obj}  # a bare list of messages
    if not isinstance(obj, dict):
        conv.skipped.append(f"JSON value {index + 1}: not a conversation object ({type(obj).__name__}); left out")
        return
    first_run_start = len(conv.messages)
    runs_before = _count_runs(conv.messages)
    for key, attr in (("task_id", "task_id"), ("model", "model")):
        value = obj.get(key)
        if value and getattr(conv, attr) is None:
            setattr(conv, attr, str(value))
        elif value and getattr(conv, attr) != str(value):
            conv.skipped.append(f"conversation {index + 1} is of {key} {value!r}, not {getattr(conv, attr)!r}; shown as a further run")
    if conv.model is None and obj.get("model_slug"):
        conv.model = str(obj["model_slug"])
    if obj.get("model_slug"):
        conv.meta.setdefault("model_slug", obj["model_slug"])
    if obj.get("total_steps") is not None and conv.total_steps is None:
        conv.total_steps = _step(obj.get("total_steps"))
    messages = obj.get("messages")
    if messages is None:
        conv.skipped.append(f"conversation {index + 1} has no 'messages'")
        messages = []
    elif not isinstance(messages, list):
        conv.skipped.append(f"conversation {index + 1}: 'messages' is not a list; left out")
        messages = []
    for number, raw in enumerate(messages, start=1):
        msg = _message(raw, number, conv)
        if msg is not None:
            conv.messages.append(msg)
    if index > 0 and len(conv.messages) > first_run_start:
        conv.messages[first_run_start].new_run = True
    _snapshots(obj.get("file_snapshots"), conv, runs_before + 1)


def _count_runs(messages: list[AgentMessage]) -> int:
    """Runs so far, by the rule the replay builder uses (a new object, or the step counter going back)."""
    runs, prev = 0, None
    for m in messages:
        if runs == 0 or m.new_run or (m.step is not None and prev is not None and m.step < prev):
            runs += 1
        if m.step is not None:
            prev = m.step
    return runs


def _snapshots(raw: Any, conv: Conversation, run: int) -> None:
    if raw is None:
        return
    if isinstance(raw, dict):  # {filename: [snapshots]} or {filename: content}
        items = []
        for name, value in raw.items():
            for v in value if isinstance(value, list) else [value]:
                items.append(dict(v, filename=v.get("filename", name)) if isinstance(v, dict) else {"filename": name, "content": v})
        raw = items
    if not isinstance(raw, list):
        conv.skipped.append("'file_snapshots' is neither a list nor an object; left out")
        return
    prev = None
    for i, snap in enumerate(raw, start=1):
        if not isinstance(snap, dict) or not isinstance(snap.get("content"), str) or not (snap.get("filename") or snap.get("original_name")):
            conv.skipped.append(f"file snapshot {i}: no filename or content; left out")
            continue
        step = _step(snap.get("step"))
        if step is not None and prev is not None and step < prev:
            run += 1
        prev = step if step is not None else prev
        conv.snapshots.append(
            Snapshot(step, str(snap.get("filename") or snap.get("original_name")), snap["content"],
                     str(snap["original_name"]) if snap.get("original_name") else None, run)
        )


def read_json_conversation(text: str, path: str) -> Conversation:
    conv = Conversation("agent-json", path)
    if not text.strip():
        conv.skipped.append("the file is empty")
        return conv
    objects = _objects(text, conv.skipped)
    if not objects:
        conv.skipped.append("no JSON conversation could be read from the file")
    for index, obj in enumerate(objects):
        _conversation_from(obj, conv, index)
    if objects and not any(_holds_messages(obj) for obj in objects):
        conv.meta["not_a_conversation"] = _what_it_is(objects)
    return conv


def _holds_messages(obj: Any) -> bool:
    if isinstance(obj, dict):
        return "messages" in obj
    return isinstance(obj, list) and any(isinstance(o, dict) and (_role(o) is not None or "messages" in o) for o in obj)


def _what_it_is(objects: list[Any]) -> str:
    """One line on what a JSON file that is no conversation holds."""
    obj = objects[0]
    if isinstance(obj, dict):
        keys = ", ".join(sorted(str(k).replace("\n", " ") for k in obj)[:8]) or "none"
        return f"a JSON object with no 'messages' (its keys: {keys})"
    if isinstance(obj, list):
        return f"a JSON list of {len(obj)} item(s), none of them a message or a conversation"
    return f"a JSON {type(obj).__name__}, not a conversation object"
