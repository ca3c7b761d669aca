"""Turning an MLS-Bench agent conversation into replay steps.

Both agent importers (the JSON export and the plain-text transcript) first
read their file into a `Conversation` of `AgentMessage`s; this module pairs
each tool call with its result and makes the steps.

Where the task is known locally, the agent's edits are re-applied to the
task's scaffold, so each edit step carries the real file before and after.
The scaffold comes from the catalog; failing that from the export's first
file snapshot, or from the file listing in the task prompt when that
listing is complete. An edit that cannot be re-applied keeps the agent's
text and says why; from then on that file's text is unknown until an undo
brings back a known state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sessions.ranges import EditRefused, content_lines
from sessions.replay.conversation import (
    AgentMessage,
    Conversation,
    Snapshot,
    classify_result,
    int_arg,
    reattach_late_results,
    short_arg,
    tool_kind,
)
from sessions.replay.file_clues import (
    RANGE_AFTER,
    REPLACED,
    norm_name,
    prompt_listing,
    ranges_from_prompt,
    ranges_from_result,
)
from sessions.replay.model import (
    UNKNOWN,
    EditStep,
    Replay,
    SubmitStep,
    TestStep,
    TextStep,
    UndoStep,
)
from sessions.replay.results import (
    auto_submit_at,
    has_setting_output,
    parse_run_output,
    read_test_number,
    remaining,
    submit_number,
)
from sessions.state import FileState
from tasks.spec import LineRange, TaskSpec

PLACEHOLDER = "⋯"

TASK_LINE = re.compile(r"^\s*(?:#+\s*)?Task:\s*(\S+)", re.M)  # "Task: id" or a heading "# Task: id"
ERROR_RESULT = re.compile(r"^\s*ERROR\b")


@dataclass
class _Tracked:
    """A file as the replay knows it at a point: its state, or why it is unknown."""

    path: str
    state: FileState | None
    exact: bool = True  # False once placeholder lines stand for text the source lost
    why_unknown: str = ""


class AgentReplayBuilder:
    def __init__(self, conv: Conversation, task: TaskSpec | None, task_note: str | None = None, reapply: bool = True):
        self.conv, self.task, self.reapply = conv, task, reapply
        self.replay = Replay(conv.source, conv.path, task_id=conv.task_id, who=conv.model)
        self.replay.skipped.extend(conv.skipped)
        self.replay.notes.extend(conv.notes)
        self.replay.meta.update(conv.meta)
        if conv.total_steps is not None:
            self.replay.meta["total_steps"] = conv.total_steps
        if task is not None:
            self.replay.title, self.replay.test_budget = task.title, task.test_budget
        if task_note:
            self.replay.notes.append(task_note)
        self.run = 1
        self.prev_step: int | None = None
        self.pending: AgentMessage | None = None
        self._result_time: str | None = None
        self.prompt = ""  # the first user message: the task text
        self.initial: dict[tuple[int, str], _Tracked] = {}
        self.cut_runs: set[int] = set()  # runs whose first steps are not in the file
        self.scaffold_notes: dict[str, str] = {}
        self._reset_run()

    # -- runs -------------------------------------------------------------------------
    def _reset_run(self) -> None:
        self.files: dict[str, _Tracked] = {}
        self.undo_stack: list[tuple[str, _Tracked]] = []
        self.tests: dict[int, TestStep] = {}
        self.last_test: int | None = None

    def _new_run(self) -> None:
        if self.replay.steps:
            self.run += 1
        self._reset_run()

    def add(self, step, msg: AgentMessage | None):
        step.run = self.run
        if msg is not None:
            step.time = step.time or msg.time
            if step.source_step is None:
                step.source_step = msg.step
            step.notes.extend(msg.notes)
        return self.replay.add(step)

    # -- messages ---------------------------------------------------------------------
    def build(self) -> Replay:
        for number, msg in enumerate(reattach_late_results(self.conv.messages), start=1):
            try:
                self.feed(msg)
            except Exception as exc:  # a replay shows what it can; it never stops at a bad message
                self.pending = None
                where = f"step {msg.step}" if msg.step is not None else f"message {number}"
                self.replay.skipped.append(f"{where} could not be replayed ({type(exc).__name__}: {exc}); left out")
        try:
            self._flush()
        except Exception as exc:
            self.replay.skipped.append(f"the last call could not be replayed ({type(exc).__name__}: {exc})")
        if not self.conv.messages:
            self.replay.skipped.append("the conversation holds no messages")
        if self.replay.task_id is None:
            m = TASK_LINE.search(self.prompt)
            if m:
                self.replay.task_id = m.group(1)
        for note in self.scaffold_notes.values():
            self.replay.notes.append(note)
        self._record_run_starts()
        return self.replay

    def _record_run_starts(self) -> None:
        """Each run's files as it began: the scaffold, or unknown where the run's start is not in the file."""
        files = self.task.editable_files if self.task is not None and self.reapply else ()
        for run in range(1, self.replay.runs + 1):
            start = {path: state.state for (r, path), state in self.initial.items() if r == run}
            for f in files:
                if run in self.cut_runs:
                    start[f.path] = None
                elif f.path not in start:
                    start[f.path] = self._initial_state(f.path, f, f.path, None).state
            if start:
                self.replay.run_start[run] = start

    def feed(self, msg: AgentMessage) -> None:
        if msg.new_run or (msg.step is not None and self.prev_step is not None and msg.step < self.prev_step):
            self._flush()
            self._new_run()
        if msg.step is not None:
            self.prev_step = msg.step
        if msg.role == "assistant":
            self._flush()
            if msg.thinking.strip():
                self.add(TextStep(role="thinking", text=msg.thinking), msg)
            if msg.text.strip():
                self.add(TextStep(role="assistant", text=msg.text), msg)
            if msg.tool or msg.tool_input is not None:
                self.pending = msg
            return
        kind = classify_result(msg.text)
        if msg.role == "tool_result" or kind is not None:
            if self.pending is not None:
                want = self._kind_of(self.pending)
                # a `test` call may submit ({"submit": N}, {"is_final": true}): its result is a submit's
                if kind is None or want is None or kind == want or (want, kind) == ("test", "submit"):
                    call, self.pending = self.pending, None
                    self._complete(call, msg)
                    return
                self._flush()
            self._orphan(msg, kind)
            return
        # a plain user message (or anything else with text)
        self._flush()
        if not self.prompt and msg.text:
            self.prompt = msg.text
            self._task_from_prompt(msg.text)
        if msg.text.strip() or msg.role == "user":
            role = msg.role if msg.role in ("user", "assistant") else "note"
            self.add(TextStep(role=role, text=msg.text), msg)

    def _task_from_prompt(self, text: str) -> None:
        if self.replay.task_id is None:
            m = TASK_LINE.search(text)
            if m:
                self.replay.task_id = m.group(1)

    def _flush(self) -> None:
        """A pending call that got no result."""
        if self.pending is not None:
            call, self.pending = self.pending, None
            self._complete(call, None)

    @staticmethod
    def _kind_of(call: AgentMessage) -> str | None:
        """edit | test | undo | submit for the four tools; None for others or when unnamed."""
        kind = tool_kind(call.tool)
        if kind is None and call.tool in (None, "", "?"):
            data = call.tool_input or {}
            if any(k in data for k in ("start_line", "end_line", "content", "op")):
                return "edit"
        return kind

    # -- one call and its result ------------------------------------------------------------
    def _complete(self, call: AgentMessage, result: AgentMessage | None) -> None:
        kind = self._kind_of(call)
        text = result.text if result is not None and result.text.strip() else None
        if kind is None and text is not None and call.tool in (None, "", "?"):
            kind = classify_result(text)
        self._result_time = result.time if result is not None else None
        if result is not None and result.time and not call.time:
            call.time = result.time
        if kind == "edit":
            self._edit(call, text)
        elif kind == "test":
            self._test(call, text)
        elif kind == "undo":
            self._undo(call, text)
        elif kind == "submit":
            self._submit(call, text)
        else:
            self._other(call, text)

    def _orphan(self, msg: AgentMessage, kind: str | None) -> None:
        """A result with no call before it (results arriving as user messages, flattened files)."""
        self._result_time = None
        if kind == "test":
            self._test(msg, msg.text)
        elif kind == "submit":
            self._submit(msg, msg.text)
        elif kind == "undo":
            msg.notes.append("undo result without its call: one edit assumed")
            self._undo(msg, msg.text)
        else:
            what = "edit result without the edit's input" if kind == "edit" else "tool result without a call"
            self.add(TextStep(role="tool", title=what, text=msg.text), msg)

    def _other(self, call: AgentMessage, result: str | None) -> None:
        parts = []
        if call.tool_input:
            parts.append("input: " + ", ".join(f"{k}={short_arg(v)}" for k, v in call.tool_input.items()))
        if result is not None:
            parts.append(result)
        self.add(TextStep(role="tool", title=call.tool or "tool", text="\n".join(parts)), call)

    # -- edits --------------------------------------------------------------------------------
    def _edit(self, call: AgentMessage, result: str | None) -> None:
        data = call.tool_input or {}
        filename = str(data.get("filename") or data.get("file") or data.get("path") or "")
        op = str(data.get("op") or "replace").lower()
        start, end = int_arg(data.get("start_line", data.get("start"))), int_arg(data.get("end_line", data.get("end")))
        content = data.get("content", data.get("new_content", ""))
        content = content if isinstance(content, str) else str(content)
        after_line = int_arg(data.get("after_line"))
        if op in ("insert", "insert_after") and end is None and (start is not None or after_line is not None):
            line = after_line if after_line is not None else start
            start, end = line + 1, line  # type: ignore[operator]
        elif op == "delete":
            content = ""
        step = EditStep(file=filename or "?", start=start or 0, end=end if end is not None else (start or 0) - 1,
                        content=content, message=result or "", op=op)
        unreadable = "error" in data and not any(k in data for k in ("filename", "file", "path", "content"))
        if result is None and not unreadable:
            step.notes.append("no result recorded for this edit")
        if unreadable or (result is not None and not result.lstrip().startswith("OK")):
            self._refused_edit(step, call, filename, f"the call's arguments were not readable ({short_arg(data['error'], 120)})"
                               if unreadable else "refused: " + _first_line(result or ""))
            return
        if op == "create":
            self._create(step, call, filename, content)
            return
        reported = REPLACED.search(result or "")
        if reported and op == "replace" and (int(reported.group(1)), int(reported.group(2))) != (start, end):
            step.notes.append(f"the call asked for lines {start}..{end}; the tool replaced "
                              f"{reported.group(1)}..{reported.group(2)}, as its reply says")
            start, end = int(reported.group(1)), int(reported.group(2))
            step.start, step.end = start, end
        elif after_line is not None and op == "replace":
            step.notes.append("after_line is ignored by the harness for a replace")
        if call.input_truncated:
            step.content = content = self._pad(content, reported, step)
        elif reported and int(reported.group(3)) != len(content_lines(content)):
            step.notes.append(
                f"the tool reported {reported.group(3)} line(s), the recorded text has {len(content_lines(content))}"
            )
        if not filename or start is None or end is None or op not in ("replace", "insert", "insert_after", "delete"):
            step.notes.append(f"the edit's input is incomplete or of an unknown kind (op={op!r}): shown as the agent's text")
            self._mark_unknown(filename, "an earlier edit could not be read")
            self.add(step, call)
            return
        tracked = self._tracked(filename, result)
        path = tracked.path
        step.file = path
        if tracked.state is None:
            step.notes.append(f"not re-applied: {tracked.why_unknown}; shown as the agent's text")
            self.undo_stack.append((path, tracked))
            self.add(step, call)
            return
        try:
            after = tracked.state.edited(start, end, content)
        except EditRefused as exc:
            step.before = tracked.state
            step.notes.append(f"cannot be re-applied to the scaffold ({exc}); shown as the agent's text")
            self.undo_stack.append((path, tracked))
            self.files[path] = _Tracked(path, None, False, "an earlier edit could not be re-applied")
            self.add(step, call)
            return
        exact = tracked.exact and not call.input_truncated
        step.before, step.after, step.applied, step.exact = tracked.state, after, True, exact
        self._check_reported(step, result)
        self.undo_stack.append((path, tracked))
        self.files[path] = _Tracked(path, after, exact, "")
        self._check_snapshot(step, call)
        self.add(step, call)

    def _refused_edit(self, step: EditStep, call: AgentMessage, filename: str, why: str) -> None:
        """An edit the tool refused: the file (shown as it was, where known) did not change."""
        step.refused = True
        path, task_file = self._resolve(filename) if filename else ("", None)
        tracked = self.files.get(path) or (self._tracked(filename, None) if task_file is not None else None)
        step.before = step.after = tracked.state if tracked else None
        step.applied = step.before is not None
        step.notes.append(why + "; the file did not change")
        self.add(step, call)

    def _create(self, step: EditStep, call: AgentMessage, filename: str, content: str) -> None:
        """A new file the harness accepted: all of it is the agent's, so all of it is editable."""
        path = self._resolve(filename)[0]
        count = len(content_lines(content))
        after = FileState.from_text(content if content.endswith("\n") or not content else content + "\n",
                                    (LineRange(1, count),))
        step.file, step.start, step.end = path, 1, 0
        step.after, step.applied, step.exact = after, True, not call.input_truncated
        step.notes.append(f"created {path}")
        self.undo_stack.append((path, self.files.get(path) or _Tracked(path, None, False, "the file did not exist")))
        self.files[path] = _Tracked(path, after, step.exact, "")
        self.add(step, call)

    def _pad(self, content: str, reported: re.Match | None, step: EditStep) -> str:
        lines = content_lines(content)
        if reported is None:
            step.notes.append("the edit's text is cut short in the source; the file after it is incomplete")
            return "\n".join(lines + [f"{PLACEHOLDER} [the rest of this edit's text is not in the source]"])
        want = int(reported.group(3))
        missing = want - len(lines)
        if missing <= 0:
            step.notes.append("the edit's text is cut short in the source (its last line may be partial)")
            return content
        step.notes.append(
            f"the edit's text is cut short in the source: {missing} of its {want} lines are missing "
            f"and shown as '{PLACEHOLDER}'"
        )
        filler = [f"{PLACEHOLDER} [{missing} line(s) of this edit are not in the source]"] + [PLACEHOLDER] * (missing - 1)
        return "\n".join(lines + filler)

    def _check_reported(self, step: EditStep, result: str | None) -> None:
        m = RANGE_AFTER.search(result or "")
        if not m:
            return
        want = LineRange(int(m.group(1)), int(m.group(2)))
        got = step.range_after()
        if got is not None and (got.start, got.end) != (want.start, want.end):
            step.notes.append(f"the tool reported editable range {want}, re-applying gives {got}")

    def _mark_unknown(self, filename: str, why: str) -> None:
        if filename:
            path = self._resolve(filename)[0]
            self.undo_stack.append((path, self.files.get(path) or _Tracked(path, None, False, why)))
            self.files[path] = _Tracked(path, None, False, why)

    # -- the files' starting points -------------------------------------------------------------
    def _resolve(self, filename: str) -> tuple[str, Any]:
        """The workspace path for an agent's filename, and the task file if known."""
        name = norm_name(filename)
        if self.task is not None:
            for f in self.task.files:
                if f.path == name:
                    return f.path, f
            for f in self.task.files:
                if name.endswith("/" + f.path) or f.path.endswith("/" + name) or f.path.rsplit("/", 1)[-1] == name.rsplit("/", 1)[-1]:
                    return f.path, f
        return name, None

    def _tracked(self, filename: str, result: str | None) -> _Tracked:
        path, task_file = self._resolve(filename)
        if path in self.files:
            return self.files[path]
        key = (self.run, path)
        if key not in self.initial:
            self.initial[key] = self._initial_state(path, task_file, filename, result)
        self.files[path] = self.initial[key]
        return self.files[path]

    def _initial_state(self, path: str, task_file, filename: str, result: str | None) -> _Tracked:
        if not self.reapply:
            return _Tracked(path, None, False, "re-applying edits was turned off")
        reasons = []
        ranges: tuple[LineRange, ...] | None = tuple(task_file.editable) if task_file is not None else None
        if task_file is not None:
            try:
                text = task_file.source.read_text(encoding="utf-8")
                self.scaffold_notes[path] = f"{path}: edits re-applied to the task's scaffold ({self.task.id})"
                return _Tracked(path, FileState.from_text(text, ranges), True, "")
            except (OSError, UnicodeDecodeError) as exc:
                reasons.append(f"the task's scaffold for {path} is not available ({type(exc).__name__})")
        elif self.task is None:
            reasons.append(f"task {self.replay.task_id or '?'} is not in the local catalog")
        else:
            reasons.append(f"{path} is not a file of task {self.task.id}")
        if ranges is None:
            ranges = ranges_from_prompt(self.prompt, path, filename) or ranges_from_result(result)
        snap = self._initial_snapshot(path, filename)
        if snap is not None and ranges:
            self.scaffold_notes[path] = f"{path}: edits re-applied to the export's first snapshot of the file (step {snap.step})"
            return _Tracked(path, FileState.from_text(snap.content, ranges), True, "")
        listing = prompt_listing(self.prompt, path, filename, result)
        if listing is not None and ranges:
            self.scaffold_notes[path] = f"{path}: edits re-applied to the file as the task prompt lists it"
            return _Tracked(path, FileState.from_text(listing, ranges), True, "")
        if not ranges:
            reasons.append("its editable lines are not known")
        why = "; ".join(reasons) or "the scaffold is not available"
        self.scaffold_notes.setdefault(path, f"{path}: edits not re-applied ({why}); they show the agent's text")
        return _Tracked(path, None, False, why)

    def _initial_snapshot(self, path: str, filename: str) -> Snapshot | None:
        names = {path, norm_name(filename)}
        first_edit = self.prev_step
        candidates = [
            s for s in self.conv.snapshots
            if s.run == self.run and (norm_name(s.filename) in names or norm_name(s.original_name or "") in names)
            and (s.step is None or first_edit is None or s.step < first_edit)
        ]
        return min(candidates, key=lambda s: s.step or 0) if candidates else None

    def _check_snapshot(self, step: EditStep, call: AgentMessage) -> None:
        if call.step is None or step.after is None:
            return
        for s in self.conv.snapshots:
            if s.run == self.run and s.step == call.step and norm_name(s.filename) in (step.file, norm_name(step.file)):
                if s.content != step.after.text:
                    step.notes.append(f"the export's snapshot of step {s.step} differs from the re-applied file")
                return

    # -- undo, tests, submit ------------------------------------------------------------------
    def _undo(self, call: AgentMessage, result: str | None) -> None:
        data = call.tool_input or {}
        count = int_arg(data.get("n", data.get("count", 1))) or 1
        step = UndoStep(count=count, message=result or "")
        if result is not None and not result.lstrip().startswith("Undo complete"):
            step.refused = True
            step.notes.append("the undo was refused; nothing changed")
            self.add(step, call)
            return
        if result is None:
            step.notes.append("no result recorded for this undo")
        for _ in range(count):
            if not self.undo_stack:
                step.notes.append("more undos than edits in this run: the rest had nothing to undo")
                break
            path, previous = self.undo_stack.pop()
            now = self.files.get(path)
            old_before = step.files.get(path, (now.state if now else None, None))[0]
            step.files[path] = (old_before, previous.state)
            self.files[path] = previous
        self.add(step, call)

    def _test(self, call: AgentMessage, result: str | None) -> None:
        """A `test` call: it runs a test, or submits ({"submit": N}, {"is_final": true}); its result says which."""
        data = call.tool_input or {}
        asks_submit = "submit" in data or bool(data.get("is_final"))
        if result is not None and ERROR_RESULT.match(result):
            if asks_submit:
                self._submit(call, result, n=int_arg(data.get("submit")))
            else:
                self._refused_test(call, result)
            return
        if result is not None and submit_number(result) is not None and read_test_number(result) is None:
            self._submit(call, result, n=int_arg(data.get("submit")))
            return
        if result is None and asks_submit:
            self._submit(call, None, n=int_arg(data.get("submit")))
            return
        self._run_test(call, result, asks_submit)

    def _refused_test(self, call: AgentMessage, result: str) -> None:
        step = TestStep(text=result, refused=True, status="refused")
        step.notes.append("refused: " + _first_line(result) + "; nothing was spent")
        self.add(step, call)

    def _run_test(self, call: AgentMessage, result: str | None, asks_submit: bool) -> None:
        step = TestStep(text=result or "", ended=self._result_time if call.time else None)
        if result is None:
            step.status = "no result"
            step.notes.append("no result recorded for this test")
            self.add(step, call)
            return
        n = read_test_number(result)
        auto = auto_submit_at(result)
        # What follows a trailing [auto-submit] (or a final test's [submit]) is the submission's output.
        cut = auto[0] if auto is not None else (result.find("[submit]") if asks_submit else -1)
        if cut < 0 or (n is not None and cut < result.find("[Test #")):
            cut = len(result)
        output = result[:cut]
        if n is None:
            if not has_setting_output(output):
                step.refused, step.status = True, "refused"
                step.notes.append("the result is not a test's output; the test was probably refused")
                self.add(step, call)
                return
            n = (self.last_test or 0) + 1
            step.notes.append(f"the result has no [Test #N] header: test #{n} by its order in the run")
        elif self.last_test is not None and n <= self.last_test:
            step.notes.append(
                f"test #{n} follows test #{self.last_test}: a new run begins here, "
                "and the steps before it in that run are not in the file"
            )
            self._new_run()
            self.cut_runs.add(self.run)
        parsed = parse_run_output(output, self.task)
        step.n, step.budget_left = n, remaining(result)
        step.settings, step.extra, step.status = parsed.settings, parsed.extra, parsed.status
        step.notes.extend(parsed.notes)
        if self.task is not None:
            self._mark_missing(step)
        self.tests[n] = step
        self.last_test = n
        self.add(step, call)
        if auto is not None:
            self._submit(call, result[cut:], n=auto[1] if auto[1] is not None else n, auto=True)
        elif asks_submit and cut < len(result):
            self._submit(call, result[cut:], n=n)

    def _mark_missing(self, step: TestStep) -> None:
        have = {s.label for s in step.settings}
        missing = [s.label for s in self.task.visible_settings if s.label not in have]
        if missing and step.settings:
            step.notes.append("no output in the source for " + ", ".join(missing))

    def _submit(self, call: AgentMessage, result: str | None, n: int | None = None, auto: bool = False) -> None:
        data = call.tool_input or {}
        n = n if n is not None else int_arg(data.get("n"))
        step = SubmitStep(n=n, text=result or "", auto=auto, ended=self._result_time if call.time else None)
        if auto:
            step.source_step = call.step
            step.notes.append("submitted by the harness when the test budget ran out ([auto-submit])")
        if result is not None and not auto:
            said = submit_number(result)
            if said is None and not result.lstrip().startswith("[submit]"):
                step.refused, step.status = True, "refused"
                step.notes.append("the submission was refused" + (": " + _first_line(result) if result.strip() else ""))
                self.add(step, call)
                return
            if said is not None:
                if n is not None and said != n:
                    step.notes.append(f"the call asked for test #{n}, the result says test #{said}")
                step.n = said
        if result is not None:
            parsed = parse_run_output(result, self.task)
            step.settings, step.status = parsed.settings, parsed.status
            step.final = parsed.results()
            step.notes.extend(parsed.notes)
        else:
            step.notes.append("no result recorded for the submission")
        tested = self.tests.get(step.n) if step.n is not None else None
        if tested is not None:
            visible = {s.label for s in tested.settings}
            for s in step.settings:
                s.hidden = s.hidden or (s.label not in visible)
            step.final = {**tested.results(), **step.final}
            if not any(s.hidden for s in step.settings):
                step.notes.append("the hidden settings' results are not in the source")
            if auto and step.status == UNKNOWN:
                step.status = tested.status
        elif step.n is not None:
            step.notes.append(f"test #{step.n} is not in this run of the file")
        self.add(step, call)


def _first_line(text: str, limit: int = 160) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "").rstrip(".")
    return line if len(line) <= limit else line[: limit - 1] + "…"
