"""Re-scoring tests: a results store, a rescorer on the fake task, small agent conversations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sessions.rescore import Rescorer
from sessions.rescore_store import ResultsStore
from tests.conftest import FAKE_FILE


@pytest.fixture
def store(tmp_path, monkeypatch) -> ResultsStore:
    monkeypatch.setenv("MLSBENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FAKE_EPOCHS", "3")
    return ResultsStore(tmp_path / "results")


@pytest.fixture
def rescorer(fake_task, store, tmp_path):
    def make(profile: str = "demo", **options) -> Rescorer:
        return Rescorer(fake_task, store, profile=profile, data_root=tmp_path / "data", slots=[{}],
                        python=sys.executable, **options)

    return make


def test_result(n: int, left: int, scores: dict[str, float], auto_submit: bool = False) -> str:
    head = f"[Test #{n}] ({left} tests remaining; call submit(n=N) to choose which test result to submit as final)"
    blocks = [f"### {label} (scripts/{label}.sh)\nTRAIN_METRICS: epoch=1 test_acc={score:.2f}\n"
              f"Final metrics ({label}): test_acc_{label}={score:.2f}" for label, score in scores.items()]
    tail = [f"[auto-submit] Test budget exhausted: test #{n} is submitted as final."] if auto_submit else []
    return "\n\n".join([head, *blocks, *tail])


def conversation(tmp: Path, name: str, scores: list[float], *, submit: int | None = None, auto_submit: bool = False,
                 task_id: str = "fake-task", model: str = "test-model") -> Path:
    """A JSON export: one edit setting SCORE and one test per score, then an optional submit."""
    messages = [{"step": 0, "role": "user", "content": f"Task: {task_id}\n\nChange SCORE."}]
    step = 0
    for n, score in enumerate(scores, start=1):
        step += 1
        content = f"SCORE = {score}\nCRASH_AT = None\nNOISE = 0.0\n"
        messages += [
            {"step": step, "role": "assistant", "tool_name": "edit",
             "tool_input": {"op": "replace", "filename": FAKE_FILE, "start_line": 14, "end_line": 16, "content": content}},
            {"step": step, "role": "tool_result",
             "result": f"OK: Replaced lines 14..16 with 3 line(s) in {FAKE_FILE}. Editable range: 14–16."},
        ]
        step += 1
        last = auto_submit and n == len(scores)
        messages += [
            {"step": step, "role": "assistant", "tool_name": "test", "tool_input": {}},
            {"step": step, "role": "tool_result",
             "result": test_result(n, 3 - n, {"alpha": score, "beta": score + 1}, auto_submit=last)},
        ]
    if submit is not None:
        step += 1
        score = scores[submit - 1]
        messages += [
            {"step": step, "role": "assistant", "tool_name": "submit", "tool_input": {"n": submit}},
            {"step": step, "role": "tool_result",
             "result": f"[submit] Submitting result from test #{submit} as final.\n\n"
                       + "\n\n".join(f"### {label} (scripts/{label}.sh)\nFinal metrics ({label}): test_acc_{label}={v:.2f}"
                                     for label, v in (("alpha", score), ("beta", score + 1), ("gamma", score + 2)))},
        ]
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"task_id": task_id, "model": model, "messages": messages}), encoding="utf-8")
    return path
