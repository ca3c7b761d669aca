"""The per-test text in the form MLS-Bench agents saw it."""

from __future__ import annotations

from sessions.events import CANCELLED, FAILED, LOST, RunKey
from sessions.metrics import SettingMetrics

TAIL_LINES = 20  # of a failed command's log


def header(key: RunKey, budget_left: int) -> str:
    if key.phase == "submit":
        return f"[submit] Submitting result from test #{key.n} as final."
    noun = "test" if budget_left == 1 else "tests"
    text = (
        f"[Test #{key.n}] ({budget_left} {noun} remaining; "
        "call submit(n=N) to choose which test result to submit as final)"
    )
    if budget_left == 0:
        text += (
            "\n\n[NOTE] This was your last test. You MUST now call submit(n=X) "
            "to choose which test result to submit as your final answer."
        )
    return text


def setting_block(
    label: str,
    command: str,
    status: str,
    exit_code: int | None,
    metrics: SettingMetrics,
    log_tail: list[str],
    detail: str = "",
) -> str:
    out = [f"### {label} ({command})"]
    if status == FAILED:
        out.append(f"[COMMAND FAILED exit={exit_code}]")
        out.extend(log_tail[-TAIL_LINES:])
        return "\n".join(out)
    if status == CANCELLED:
        out.append("[CANCELLED] the test was cancelled before this setting finished.")
        return "\n".join(out)
    if status == LOST:
        out.append(f"[LOST] {detail}")
        return "\n".join(out)
    if metrics.recent:
        unit = "epochs" if metrics.plan_unit == "epoch" else None
        out.append(f"Training progress (last {unit}):" if unit else "Training progress:")
        out.extend(metrics.recent)
    results = metrics.results()
    if results:
        pairs = " ".join(f"{name}={value.text}" for name, value in results.items())
        out.append(f"Final metrics ({label}): {pairs}")
    elif metrics.final_line:
        out.append("Final metrics:")
        out.append(metrics.final_line)
    else:
        out.append(f"[NO METRICS] {label} finished without the metrics its task reports.")
    return "\n".join(out)


def run_feedback(key: RunKey, budget_left: int, blocks: list[str]) -> str:
    return "\n\n".join([header(key, budget_left), *blocks])
