"""Reading test output text back into per-setting results."""

from __future__ import annotations

from sessions.events import CANCELLED, DONE, FAILED, LOST, RunKey
from sessions.feedback import run_feedback, setting_block
from sessions.metrics import SettingMetrics
from sessions.replay.results import pairs, parse_run_output, remaining, submit_number, read_test_number


def engine_feedback(fake_task, statuses: dict[str, str], n: int = 2, left: int = 1) -> str:
    """Feedback exactly as the engine writes it."""
    blocks = []
    for label, status in statuses.items():
        setting = fake_task.setting(label)
        metrics = SettingMetrics(fake_task.metrics, setting)
        metrics.feed("TRAIN_PLAN unit=epoch total=3")
        for epoch, acc in ((1, 40.0), (2, 55.5), (3, 52.25)):
            metrics.feed(f"TRAIN_METRICS: epoch={epoch} train_loss=0.5 test_acc={acc:.2f}")
        tail = ["Traceback (most recent call last):", "RuntimeError: boom"] if status == FAILED else []
        blocks.append(setting_block(label, f"scripts/{label}.sh", status, 1 if status == FAILED else 0,
                                    metrics, tail, "node went away" if status == LOST else ""))
    return run_feedback(RunKey("test", n), left, blocks)


def test_engine_feedback_round_trips(fake_task):
    text = engine_feedback(fake_task, {"alpha": DONE, "beta": FAILED})
    parsed = parse_run_output(text, fake_task)
    assert read_test_number(text) == 2 and remaining(text) == 1
    alpha, beta = parsed.settings
    assert (alpha.label, alpha.status, alpha.metrics) == ("alpha", DONE, {"test_acc_alpha": "55.50"})
    assert alpha.script == "scripts/alpha.sh" and alpha.values["test_acc"] == "52.25"
    assert "TRAIN_METRICS: epoch=3" in alpha.output
    assert (beta.status, beta.exit_code, beta.metrics) == (FAILED, 1, {})
    assert beta.output.endswith("RuntimeError: boom")
    assert parsed.status == "partial"
    assert parsed.results() == {"test_acc_alpha": "55.50"}


def test_cancelled_and_lost(fake_task):
    parsed = parse_run_output(engine_feedback(fake_task, {"alpha": CANCELLED, "beta": LOST}), fake_task)
    assert [s.status for s in parsed.settings] == [CANCELLED, LOST]
    assert parsed.status == CANCELLED


def test_flattened_feedback_reads_the_same(fake_task):
    text = engine_feedback(fake_task, {"alpha": DONE, "beta": DONE}, n=1, left=2)
    flat = " ".join(text.split())
    a, b = parse_run_output(text, fake_task), parse_run_output(flat, fake_task)
    assert [(s.label, s.status, s.metrics) for s in a.settings] == [(s.label, s.status, s.metrics) for s in b.settings]
    assert read_test_number(flat) == 1 and remaining(flat) == 2


def test_final_metrics_lines_without_the_task_keep_every_key():
    text = (
        "[Test #1] (2 tests remaining; call submit(n=1) to submit this result) "
        "### toy-convergence (scripts/toy_convergence.sh) Training progress: "
        "TRAIN_METRICS run=999 step=35 objective=-0.16 success=1 "
        "Final metrics: FINAL_METRICS convergence_steps=129.169000 success_rate=1.000000 score=129.169000 "
        "### hyperclean-linear (scripts/hyperclean_linear.sh) [output file not found: /x/y.out]"
    )
    parsed = parse_run_output(text)  # no task: every FINAL_METRICS key, suffixed with the label
    toy, linear = parsed.settings
    assert toy.metrics == {
        "convergence_steps_toy_convergence": "129.169000",
        "success_rate_toy_convergence": "1.000000",
        "score_toy_convergence": "129.169000",
    }
    assert toy.values["success_rate"] == "1.000000"
    assert linear.status == "missing" and "not found" in linear.detail
    assert parsed.status == "partial"


def test_leaderboard_line(fake_task):
    text = engine_feedback(fake_task, {"alpha": DONE}) + (
        '\n\n[Leaderboard] Results saved: {"test_acc_alpha": 55.5, "test_acc_gamma": 60.0, "elapsed": 12}'
    )
    parsed = parse_run_output(text, fake_task)
    assert parsed.settings[0].metrics == {"test_acc_alpha": "55.50"}  # as printed; the same number
    assert parsed.extra == {"test_acc_gamma": "60.0", "elapsed": "12"}
    assert parsed.leaderboard["test_acc_alpha"] == "55.5"
    # a Python-style dict, and a value that disagrees with the printed one
    text = engine_feedback(fake_task, {"alpha": DONE}) + "\n\n[Leaderboard] Results saved: {'test_acc_alpha': 56.0}"
    parsed = parse_run_output(text, fake_task)
    assert parsed.settings[0].metrics == {"test_acc_alpha": "56.0"}
    assert parsed.notes == ["test_acc_alpha: printed 55.50, saved to the leaderboard as 56.0"]


def test_cut_outputs():
    text = "[Test #3] (0 tests remaining; ...)\n\n### a (s.sh)\nTraining progress:\nTRAIN_METRICS: epoch=1 test_acc=5"
    parsed = parse_run_output(text)
    assert parsed.settings[0].status == "incomplete" and parsed.settings[0].values == {"epoch": "1", "test_acc": "5"}
    assert parsed.status == "incomplete"
    assert parse_run_output("[Test #1] (2 tests remaining").settings == []
    assert parse_run_output("[Test #1] (2 tests remaining").notes == ["no per-setting output could be read from the result text"]
    assert parse_run_output("").notes == []


def test_headers():
    assert submit_number("[submit] Submitting result from test #3 as final.") == 3
    assert submit_number("[Test #3]") is None
    assert read_test_number("no header") is None and remaining("[Test #1] (1 test remaining; ...)") == 1


def test_pairs_stop_at_the_first_other_word():
    assert pairs("a=1 b=2.5 c=nan then d=4") == {"a": "1", "b": "2.5", "c": "nan"}
    assert pairs("") == {} and pairs("=1 a=2") == {}
