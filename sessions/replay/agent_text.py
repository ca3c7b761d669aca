"""Reading the plain-text transcript form of MLS-Bench agent conversations.

    Agent Conversation: deepseek-reasoner
    Model: deepseek-reasoner
    Total steps: 9
    Messages: 20
    UserStep 0
    Task: dl-activation-function ...
    AssistantStep 1edit
    Tool Input
    1{
    2  "op": "replace",
    ...
    7}
    Tool ResultStep 1
    OK: Replaced lines 32..49 with 17 line(s) in ...

Published transcripts are cut at a fixed length per section (a tool input's
JSON may stop inside its "content" string), and some are flattened: step
markers dropped, markers glued to the end of the text before them, a tool's
result glued to the closing brace of its input, several results on
following lines, line breaks inside outputs collapsed to spaces, and
several runs concatenated. The reader finds what structure is left.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sessions.replay.conversation import AgentMessage, Conversation
from sessions.replay.indentation import recover_indentation

HEADER = re.compile(r"^\s*Agent Conversation:\s*(.*?)\s*$")
META = re.compile(r"^\s*(Model|Total steps|Messages):\s*(.*?)\s*$")
# Markers end a line; text before one on the same line belongs to the section before.
MARKER = re.compile(
    r"(?:(?P<user>UserStep\s*(?P<ustep>\d+))"
    r"|(?P<assistant>AssistantStep\s*(?P<astep>\d+)\s*(?P<tool>[A-Za-z_][\w-]*)?)"
    r"|(?P<result>Tool ResultStep\s*(?P<rstep>\d+)|Tool Result)"
    r"|(?P<input>Tool Input))\s*$"
)
RESULT_START = re.compile(r"^\s*(\[Test #\d+\]|\[submit\]|OK: Replaced|OK: Inserted|Undo complete)")
_LENIENT = json.JSONDecoder(strict=False)


def _partial_string(body: str) -> str:
    """The value of a JSON string whose closing quote was cut off."""
    for cut in range(0, 7):
        try:
            return json.loads('"' + body[: len(body) - cut] + '"', strict=False)
        except ValueError:
            continue
    return body.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def lenient_object(text: str) -> tuple[dict[str, Any], bool]:
    """A JSON object that may be cut off: the keys read so far, and whether it was whole.

    A string value cut mid-way is kept up to the cut.
    """
    text = text.strip()
    out: dict[str, Any] = {}
    if not text.startswith("{"):
        return out, False
    pos, size = 1, len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= size:
            return out, False
        if text[pos] == "}":
            return out, True
        try:
            key, pos = _LENIENT.raw_decode(text, pos)
        except ValueError:
            return out, False
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        if pos >= size or text[pos] != ":":
            return out, False
        pos += 1
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        try:
            value, pos = _LENIENT.raw_decode(text, pos)
        except ValueError:
            if pos < size and text[pos] == '"':
                # A JSON string holds no raw line break: the value was cut where its line ends.
                out[str(key)] = _partial_string(text[pos + 1 :].split("\n", 1)[0])
            else:
                m = re.match(r"-?\d+(\.\d+)?", text[pos:])
                if m:
                    out[str(key)] = float(m.group(0)) if m.group(1) else int(m.group(0))
            return out, False
        out[str(key)] = value


def _decode(blob: bytes, conv: Conversation) -> str:
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        text = blob.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        conv.skipped.append(f"{bad} byte sequence(s) that are not UTF-8 replaced by '\ufffd'")
        return text


def decode_bytes(blob: bytes, conv: Conversation) -> str:
    text = _decode(blob, conv)
    return text[1:] if text.startswith("\ufeff") else text


class _Reader:
    def __init__(self, text: str, conv: Conversation):
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.conv = conv
        self.messages = conv.messages
        self.section: AgentMessage | None = None  # where plain lines go
        self.buffer: list[str] = []
        self.in_header = False
        self.pending_new_run = False
        self.seen_content = False

    # -- sections ------------------------------------------------------------------------
    def _close(self) -> None:
        """End the open section: its text, split where several results follow each other."""
        if self.section is None:
            self.buffer = []
            return
        text = "\n".join(self.buffer).strip("\n")
        self.buffer = []
        section, self.section = self.section, None
        if section.role == "assistant":
            section.thinking = (section.thinking + "\n" + text).strip("\n") if section.thinking else text
            return
        chunks = _split_results(text) if section.role != "user" or RESULT_START.match(text) else [text]
        section.text = chunks[0] if chunks else ""
        for chunk in chunks[1:]:
            self._push(AgentMessage(role="tool_result", text=chunk))

    def _push(self, msg: AgentMessage) -> AgentMessage:
        if self.pending_new_run:
            msg.new_run, self.pending_new_run = True, False
        self.messages.append(msg)
        self.seen_content = True
        return msg

    def _open(self, msg: AgentMessage) -> None:
        self._close()
        self.section = self._push(msg)

    # -- the walk ---------------------------------------------------------------------------
    def read(self) -> None:
        i, n = 0, len(self.lines)
        while i < n:
            line = self.lines[i]
            header = HEADER.match(line)
            if header:
                self._close()
                if self.seen_content:
                    self.pending_new_run = True
                if self.conv.model is None and header.group(1):
                    self.conv.model = header.group(1)
                self.in_header = True
                i += 1
                continue
            if self.in_header:
                meta = META.match(line)
                if meta:
                    self._meta(meta.group(1), meta.group(2))
                    i += 1
                    continue
                if not line.strip():
                    i += 1
                    continue
                self.in_header = False
            marker = MARKER.search(line)
            if marker is None:
                if self.section is None:  # text before any marker: the task prompt
                    self._open(AgentMessage(role="user"))
                self.buffer.append(line)
                i += 1
                continue
            before = line[: marker.start()]
            if before.strip():
                if self.section is None:
                    self._open(AgentMessage(role="user"))
                self.buffer.append(before)
            i = self._marker(marker, i + 1)

    def _meta(self, key: str, value: str) -> None:
        if key == "Model" and value:
            self.conv.model = self.conv.model or value
        elif key == "Total steps" and value.isdigit():
            self.conv.total_steps = self.conv.total_steps or int(value)
        elif key == "Messages" and value.isdigit():
            self.conv.meta.setdefault("messages", int(value))

    def _marker(self, m: re.Match, i: int) -> int:
        if m.group("user"):
            self._open(AgentMessage(role="user", step=int(m.group("ustep"))))
            return i
        if m.group("assistant"):
            self._open(AgentMessage(role="assistant", step=int(m.group("astep")), tool=m.group("tool") or None))
            return i
        if m.group("result"):
            step = int(m.group("rstep")) if m.group("rstep") else None
            if step is None and self.messages:
                step = self.messages[-1].step
            self._open(AgentMessage(role="tool_result", step=step))
            return i
        return self._tool_input(i)

    def _tool_input(self, i: int) -> int:
        """The numbered JSON lines after `Tool Input`; text glued after the last brace is a result."""
        self._close()
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "assistant" and last.tool_input is None:
            call = last
        else:
            call = self._push(AgentMessage(role="assistant"))
        body, expect, glued = [], 1, None
        while i < len(self.lines):
            line = self.lines[i]
            prefix = str(expect)
            if not line.startswith(prefix):
                break
            rest = line[len(prefix) :]
            marker = MARKER.search(rest)
            if marker is not None:  # the input was cut and the next marker glued on
                body.append(rest[: marker.start()])
                self.lines[i] = rest[marker.start() :]
                break
            i += 1
            expect += 1
            if expect > 2 and rest.startswith("}"):
                body.append("}")
                glued = rest[1:]
                break
            body.append(rest)
        text = "\n".join(body)
        try:
            data = json.loads(text, strict=False)
            complete = isinstance(data, dict)
            if not complete:
                data = {"raw": data}
        except ValueError:
            data, complete = lenient_object(text)
        call.tool_input = data
        _recover_indentation(call, complete)
        if not complete:
            call.input_truncated = True
            call.notes.append("the tool input is cut short in the transcript")
        if glued is not None and glued.strip():
            self.section = self._push(AgentMessage(role="tool_result", step=call.step))
            self.buffer = [glued]
            self.conv.meta["flattened"] = True
        return i

    def finish(self) -> None:
        self._close()


def _recover_indentation(call: AgentMessage, complete: bool) -> None:
    """Put back the indentation a flattened transcript lost from a Python edit, where certain."""
    data = call.tool_input or {}
    content, name = data.get("content"), str(data.get("filename") or data.get("file") or data.get("path") or "")
    if not complete or not isinstance(content, str) or not name.endswith(".py"):
        return
    recovery = recover_indentation(content)
    data["content"] = recovery.text
    if recovery.note:
        call.notes.append(recovery.note)


def _split_results(text: str) -> list[str]:
    """Split a result section where another tool's result starts on a later line."""
    lines = text.split("\n")
    chunks: list[list[str]] = [[]]
    for line in lines:
        if chunks[-1] and any(l.strip() for l in chunks[-1]) and RESULT_START.match(line):
            chunks.append([])
        chunks[-1].append(line)
    return ["\n".join(c).strip("\n") for c in chunks if any(l.strip() for l in c)] or [""]


def read_text_conversation(blob: bytes, path: str) -> Conversation:
    conv = Conversation("agent-text", path)
    text = decode_bytes(blob, conv)
    if not text.strip():
        conv.skipped.append("the file is empty")
        return conv
    reader = _Reader(text, conv)
    reader.read()
    reader.finish()
    if not any(m.role in ("assistant", "tool_result") for m in conv.messages) and not HEADER.match(text.lstrip().split("\n", 1)[0]):
        conv.skipped.append("no agent steps found: this does not look like an MLS-Bench transcript")
    if conv.meta.get("flattened"):
        conv.notes.append(
            "the transcript is flattened (line breaks and indentation were lost in places), "
            "so re-applied edits may differ from the agent's in whitespace"
        )
    if conv.total_steps is not None:
        steps = {m.step for m in conv.messages if m.role == "assistant" and m.step is not None}
        if steps and len(steps) < conv.total_steps:
            conv.skipped.append(
                f"the header says {conv.total_steps} steps; {len(steps)} are in the file (it may be cut short)"
            )
    return conv
