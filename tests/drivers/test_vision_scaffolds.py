"""The scaffolds as the engine uses them: editable ranges, baselines,
output lines, --check, and a demo run that learns."""

from __future__ import annotations

import math
import re
import sys

import pytest
import torch

MTL, ACT = "cv-multitask-loss", "dl-activation-function"
DEFAULT = {MTL: "equal", ACT: "relu"}
FIRST = {MTL: "resnet20-cifar100mt", ACT: "resnet20-cifar10"}


# ---------------------------------------------------------------------------
# Editable ranges and baselines (text only)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("task, cls, published", [
    (MTL, "class MultiTaskLoss(nn.Module):", (195, 216)),
    (ACT, "class CustomActivation(nn.Module):", (32, 49)),
])
def test_spec_ranges_match_the_marker_comments(vt, task, cls, published):
    entry, start, end = vt.editable_file(vt.load_spec(task))
    assert (start, end) == published
    lines = vt.driver_source(entry).read_text().splitlines()
    start_marker = f"# -- EDITABLE REGION START (lines {start}-{end}) "
    end_marker = f"# -- EDITABLE REGION END (lines {start}-{end}) "
    assert lines[start - 2] == start_marker + "-" * (79 - len(start_marker))
    assert lines[end] == end_marker + "-" * (79 - len(end_marker))
    assert lines[start - 3] == ""
    assert lines[start - 4] == "# " + "=" * 76
    assert lines[start - 1] == cls
    # no other marker anywhere
    text = "\n".join(lines)
    assert text.count("EDITABLE REGION START") == 1 and text.count("EDITABLE REGION END") == 1


@pytest.mark.parametrize("task", [MTL, ACT])
def test_default_baseline_is_the_scaffold_region_byte_for_byte(vt, task):
    entry, start, end = vt.editable_file(vt.load_spec(task))
    source = vt.driver_source(entry).read_text().splitlines(keepends=True)
    region = "".join(source[start - 1:end])
    assert vt.baseline_text(task, DEFAULT[task]) == region


def test_published_first_lines(vt):
    act = (vt.VISION / "custom_activation.py").read_text().splitlines()
    assert act[0] == '"""CV Activation Function Benchmark.'
    assert act[5:7] == ["FIXED: Model architectures, data pipeline, training loop.",
                        "EDITABLE: CustomActivation class."]
    assert act[23].startswith("import torchvision.t")
    mtl = (vt.VISION / "custom_mtl.py").read_text().splitlines()
    assert mtl[0] == '"""CV Multi-Task Loss Benchmark.'
    assert mtl[7] == "EDITABLE: MultiTaskLoss class."


@pytest.mark.parametrize("task", [MTL, ACT])
def test_every_baseline_compiles_into_the_scaffold(vt, tmp_path, task):
    for name in vt.baselines(task):
        ws = vt.make_workspace(tmp_path / name, task, vt.baseline_text(task, name))
        entry, _, _ = vt.editable_file(vt.load_spec(task))
        compile((ws / entry["path"]).read_text(), entry["path"], "exec")


# ---------------------------------------------------------------------------
# Runs (subprocesses, as the engine runs settings)
# ---------------------------------------------------------------------------

def check_output_lines(stdout: str, epochs: int, keys: list[str]) -> list[dict]:
    assert re.search(rf"^TRAIN_PLAN unit=epoch total={epochs}$", stdout, re.M), stdout
    rows = [r for r in _rows(stdout)]
    assert [r["epoch"] for r in rows] == list(range(1, epochs + 1))
    for line in re.findall(r"^TRAIN_METRICS: .*$", stdout, re.M):
        assert [kv.split("=")[0] for kv in line.split()[1:]] == ["epoch"] + keys
    final = re.search(r"^FINAL_METRICS best_test_acc=(\S+) best_epoch=(\d+)$", stdout, re.M)
    assert final, stdout
    best = max(rows, key=lambda r: r["test_acc"])
    assert float(final.group(1)) == pytest.approx(best["test_acc"], abs=0.006)
    return rows


def _rows(stdout):
    for m in re.finditer(r"^TRAIN_METRICS: (.*)$", stdout, re.M):
        yield {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


KEYS = {MTL: ["train_loss", "train_acc", "test_acc", "lr"],
        ACT: ["train_loss", "train_acc", "test_loss", "test_acc", "lr"]}


@pytest.mark.slow
@pytest.mark.parametrize("task", [MTL, ACT])
def test_every_baseline_runs_a_demo_epoch(vt, tmp_path, task):
    """Each baseline's region in a copy of the scaffold, run as the engine
    runs the first visible setting (demo profile, shortened). The default
    region runs in test_default_demo_learns_well_above_chance."""
    for name in vt.baselines(task):
        if name == DEFAULT[task]:
            continue
        ws = vt.make_workspace(tmp_path / name, task, vt.baseline_text(task, name))
        argv = vt.setting_argv(task, FIRST[task], ws) + vt.TINY
        proc = vt.run(argv, ws)
        assert proc.returncode == 0, (name, proc.stdout + proc.stderr)
        rows = check_output_lines(proc.stdout, 1, KEYS[task])
        assert math.isfinite(rows[0]["train_loss"]), name
        assert rows[0]["lr"] == 0.0


@pytest.mark.slow
def test_every_setting_runs_on_demo_data(vt, tmp_path, vision_setting):
    """The other settings (the first one of each task runs above)."""
    task, label = vision_setting
    if label == FIRST[task]:
        pytest.skip("runs in the baseline and demo tests")
    ws = vt.make_workspace(tmp_path, task)
    argv = vt.setting_argv(task, label, ws) + ["--epochs", "1", "--train-size", "70",
                                               "--test-size", "40"]
    proc = vt.run(argv, ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check_output_lines(proc.stdout, 1, KEYS[task])


@pytest.mark.slow
@pytest.mark.parametrize("task", [ACT, MTL])
def test_default_demo_learns_well_above_chance(vt, tmp_path, task):
    """The default region on the first visible demo setting, shortened to 3
    epochs on 768 images (72 steps): far above chance (10% on CIFAR-10, 1%
    on the 100 fine classes)."""
    ws = vt.make_workspace(tmp_path, task)
    argv = vt.setting_argv(task, FIRST[task], ws) + ["--epochs", "3", "--train-size", "768",
                                                     "--test-size", "300"]
    proc = vt.run(argv, ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = check_output_lines(proc.stdout, 3, KEYS[task])
    best = max(r["test_acc"] for r in rows)
    assert best > {ACT: 25.0, MTL: 5.0}[task], proc.stdout


@pytest.mark.slow
def test_nan_loss_prints_nan_and_training_goes_on(vt, tmp_path):
    region = vt.baseline_text(ACT, "relu").replace(
        "return F.relu(x)", "return F.relu(x) * float('nan')")
    ws = vt.make_workspace(tmp_path, ACT, region)
    argv = vt.setting_argv(ACT, FIRST[ACT], ws) + ["--epochs", "2", "--train-size", "64",
                                                   "--test-size", "20"]
    proc = vt.run(argv, ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = re.findall(r"^TRAIN_METRICS: .*$", proc.stdout, re.M)
    assert len(lines) == 2
    assert all("train_loss=nan" in line and "test_loss=nan" in line for line in lines)
    assert "lr=0.000000" in lines[1]
    assert "FINAL_METRICS" in proc.stdout


@pytest.mark.slow
def test_paper_run_reads_the_real_format(vt, tmp_path, capsys, monkeypatch):
    """--profile paper on tiny CIFAR-100 files in the real format, end to end."""
    import vision_common as vc
    data_root = tmp_path / "data"
    vt.write_cifar100(data_root, vc, n_train=40, n_test=10)
    ws = vt.make_workspace(tmp_path, MTL)
    argv = vt.setting_argv(MTL, FIRST[MTL], ws, profile="paper", data_root=data_root)
    proc = vt.run(argv + ["--epochs", "1"], ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "train 40 / test 10 images, 1 steps per epoch" in proc.stdout
    check_output_lines(proc.stdout, 1, KEYS[MTL])
    code, out, err = in_process_check(vt, tmp_path, MTL, None, argv[2:], capsys, monkeypatch)
    assert code == 0 and out.startswith("CHECK OK") and "files found" in out, err


def test_profiles_epochs(vc):
    assert vc.protocol("paper").epochs == 200
    assert vc.protocol("quick").epochs == 30
    assert vc.protocol("demo").epochs == 4
    assert (vc.protocol("demo").batch_size, vc.protocol("demo").lr) == (32, 0.025)
    assert (vc.protocol("quick").batch_size, vc.protocol("quick").lr) == (128, 0.1)
    assert vc.protocol("paper", 7).epochs == 7


# ---------------------------------------------------------------------------
# --check
# ---------------------------------------------------------------------------

def load_scaffold(vt, tmp_path, task, region=None, name="scaffold"):
    """Import a copy of the scaffold (region replaced when given) as a module."""
    import importlib.util
    ws = vt.make_workspace(tmp_path / name, task, region)
    entry, _, _ = vt.editable_file(vt.load_spec(task))
    spec = importlib.util.spec_from_file_location(f"{name}_{task}".replace("-", "_"),
                                                  ws / entry["path"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def in_process_check(vt, tmp_path, task, region, args, capsys, monkeypatch, name="chk"):
    """Run a scaffold's check() in this process: (exit code, stdout, stderr)."""
    mod = load_scaffold(vt, tmp_path, task, region, name)
    monkeypatch.setattr(sys, "argv", [mod.__file__] + list(args) + ["--check"])
    capsys.readouterr()
    try:
        mod.check(mod.parse_args())
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("task", [MTL, ACT])
def test_check_subprocess_passes_on_demo(vt, tmp_path, task):
    ws = vt.make_workspace(tmp_path, task)
    proc = vt.run(vt.setting_argv(task, FIRST[task], ws) + ["--check"], ws)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CHECK OK"), proc.stdout
    assert "demo data is generated" in proc.stdout


def test_check_passes_on_demo_for_every_setting(vt, tmp_path, capsys, monkeypatch,
                                                vision_setting):
    task, label = vision_setting
    args = vt.setting_argv(task, label, tmp_path)[2:]
    code, out, err = in_process_check(vt, tmp_path, task, None, args, capsys, monkeypatch)
    assert code == 0, err
    assert out.startswith(f"CHECK OK: {args[1]}/"), out


@pytest.mark.parametrize("task", [MTL, ACT])
def test_check_passes_for_every_baseline(vt, tmp_path, capsys, monkeypatch, task):
    args = vt.setting_argv(task, FIRST[task], tmp_path)[2:]
    for name in vt.baselines(task):
        code, out, err = in_process_check(vt, tmp_path, task, vt.baseline_text(task, name),
                                          args, capsys, monkeypatch, name)
        assert code == 0, (name, err)
        assert out.startswith("CHECK OK"), out
        assert ("backward() hook" in out) == (name == "pcgrad")


@pytest.mark.parametrize("task, label, expected", [
    (MTL, "resnet20-cifar100mt", ["cifar-100-python", "train", "test", "meta"]),
    (ACT, "resnet20-cifar10", ["cifar-10-batches-py", "data_batch_1", "test_batch"]),
    (ACT, "mobilenetv2-fmnist", ["FashionMNIST", "raw", "train-images-idx3-ubyte"]),
])
def test_check_fails_clearly_without_data(vt, tmp_path, task, label, expected, capsys,
                                          monkeypatch):
    ws = vt.make_workspace(tmp_path, task)
    empty = tmp_path / "empty"
    empty.mkdir()
    for profile in ("paper", "quick"):
        args = vt.setting_argv(task, label, ws, profile=profile, data_root=empty)[2:]
        code, out, err = in_process_check(vt, tmp_path, task, None, args, capsys,
                                          monkeypatch, profile)
        assert code != 0 and "CHECK OK" not in out
        assert err.startswith("CHECK FAILED:") and err.count("\n") == 1, err
        for word in expected + [str(empty)]:
            assert word in err


def test_check_subprocess_fails_clearly_without_data(vt, tmp_path):
    ws = vt.make_workspace(tmp_path, MTL)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = vt.run(vt.setting_argv(MTL, FIRST[MTL], ws, profile="paper", data_root=empty)
                  + ["--check"], ws)
    assert proc.returncode != 0
    assert proc.stderr.startswith("CHECK FAILED:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in ["cifar-100-python", "train", "test", "meta", str(empty), "--download",
                 "--profile demo"]:
        assert word in proc.stderr


def test_run_without_data_fails_before_training(vt, tmp_path):
    ws = vt.make_workspace(tmp_path, MTL)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = vt.run(vt.setting_argv(MTL, FIRST[MTL], ws, profile="paper", data_root=empty), ws)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "cifar-100-python" in proc.stderr and "TRAIN_METRICS" not in proc.stdout


# (task, text in the default region, its replacement, the line that fails
#  (text), words the message must contain)
BROKEN = {
    "init raises": (ACT, "super().__init__()",
                    "super().__init__()\n        raise ValueError('bad init')",
                    "raise ValueError('bad init')",
                    ["CustomActivation raised ValueError: bad init"]),
    "name error in forward": (ACT, "return F.relu(x)", "return F.relu(y)",
                              "return F.relu(y)", ["NameError", "'y'"]),
    "wrong shape": (ACT, "return F.relu(x)", "return F.relu(x).mean(1)", None,
                    ["must return a tensor of its input's shape"]),
    "not a scalar": (MTL, "return fine_loss + coarse_loss",
                     "return torch.stack([fine_loss, coarse_loss])", None,
                     ["MultiTaskLoss.forward must return a scalar tensor", "(2,)"]),
    "bad hook": (MTL, "    def forward(self, fine_loss",
                 "    def backward(self, task_losses, shared_params):\n"
                 "        raise RuntimeError('hook broke')\n\n    def forward(self, fine_loss",
                 "raise RuntimeError('hook broke')",
                 ["MultiTaskLoss raised RuntimeError: hook broke"]),
    "error in class body": (MTL, "    def __init__(self, num_tasks=2):",
                            "    weights = undefined_name\n\n    def __init__(self, num_tasks=2):",
                            "weights = undefined_name", ["NameError", "undefined_name"]),
}


def broken_case(vt, case):
    task, old, new, failing, words = BROKEN[case]
    region = vt.baseline_text(task, DEFAULT[task])
    assert old in region
    region = region.replace(old, new, 1)
    if failing is not None:
        entry, start, _ = vt.editable_file(vt.load_spec(task))
        offset = [i for i, line in enumerate(region.splitlines()) if failing in line][0]
        words = words + [f"line {start + offset}: {failing}"]
    return task, region, words


@pytest.mark.parametrize("case", ["init raises", "error in class body"])
def test_check_subprocess_fails_clearly_for_a_broken_class(vt, tmp_path, case):
    task, region, words = broken_case(vt, case)
    ws = vt.make_workspace(tmp_path, task, region)
    proc = vt.run(vt.setting_argv(task, FIRST[task], ws) + ["--check"], ws)
    assert proc.returncode != 0
    assert proc.stderr.startswith("CHECK FAILED:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


@pytest.mark.parametrize("case", ["name error in forward", "wrong shape", "not a scalar",
                                  "bad hook"])
def test_check_fails_clearly_for_a_broken_class(vt, tmp_path, case, capsys, monkeypatch):
    task, region, words = broken_case(vt, case)
    args = vt.setting_argv(task, FIRST[task], tmp_path)[2:]
    code, out, err = in_process_check(vt, tmp_path, task, region, args, capsys, monkeypatch)
    assert code != 0 and "CHECK OK" not in out
    assert err.startswith("CHECK FAILED:") and err.count("\n") == 1, err
    for word in words:
        assert word in err


def test_check_reports_a_syntax_error_with_its_line(vt, tmp_path):
    """A SyntaxError stops Python before any of the file runs; the
    interpreter's own report names the file, the line and the message."""
    region = vt.baseline_text(ACT, "relu").replace("return F.relu(x)", "return F.relu(x")
    ws = vt.make_workspace(tmp_path, ACT, region)
    proc = vt.run(vt.setting_argv(ACT, FIRST[ACT], ws) + ["--check"], ws)
    assert proc.returncode != 0
    assert "SyntaxError" in proc.stderr and "custom_activation.py" in proc.stderr
    assert re.search(r"line (48|49)", proc.stderr)
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# Schedule, metrics formatting, the MTL gradient hook (in process)
# ---------------------------------------------------------------------------

def test_cosine_lr_printed_after_the_epoch_step(vc):
    model = torch.nn.Linear(2, 2)
    opt, sched = vc.make_optimizer(model.parameters(), vc.protocol("paper"))
    assert opt.param_groups[0]["lr"] == 0.1
    lrs = {}
    for epoch in range(1, 201):
        opt.step()
        sched.step()
        lrs[epoch] = opt.param_groups[0]["lr"]
    assert vc.fmt(lrs[1], 6) == "0.099994"
    assert vc.fmt(lrs[160], 6) == "0.009549"
    assert vc.fmt(lrs[170], 6) == "0.005450"
    assert vc.fmt(lrs[190], 6) == "0.000616"
    assert vc.fmt(lrs[200], 6) == "0.000000"
    g = opt.param_groups[0]
    assert (g["momentum"], g["weight_decay"], g["nesterov"]) == (0.9, 5e-4, False)


def test_metrics_line_format(vc, capsys):
    vc.print_metrics(160, train_loss=0.08041, train_acc=97.3123, test_loss=float("nan"),
                     test_acc=90.52, lr=0.0095491502)
    out = capsys.readouterr().out.strip()
    assert out == ("TRAIN_METRICS: epoch=160 train_loss=0.0804 train_acc=97.31 "
                   "test_loss=nan test_acc=90.52 lr=0.009549")
    best = vc.BestTracker()
    for e, acc in enumerate([10.0, float("nan"), 30.5, 20.0], 1):
        best.update(e, acc)
    best.print_final()
    assert capsys.readouterr().out.strip() == "FINAL_METRICS best_test_acc=30.50 best_epoch=3"


def _step_grads(mod, criterion, model, x, fine, coarse):
    shared, heads = mod.split_params(model)
    for p in model.parameters():
        p.grad = None
    _, losses = mod.task_losses(model, x, fine, coarse)
    loss = criterion(losses[0], losses[1], 0, 10)
    mod.task_backward(criterion, loss, losses, shared, heads)
    return shared, heads, losses


def test_gradient_hook_pcgrad(vt, tmp_path):
    mod = load_scaffold(vt, tmp_path, MTL, vt.baseline_text(MTL, "pcgrad"))
    torch.manual_seed(0)
    model = mod.build_network("resnet20").eval()   # eval: BN fixed, deterministic
    x = torch.randn(8, 3, 32, 32)
    fine = torch.randint(0, 100, (8,))
    coarse = torch.randint(0, 20, (8,))             # unrelated: gradients conflict
    crit = mod.MultiTaskLoss()
    shared, heads, losses = _step_grads(mod, crit, model, x, fine, coarse)
    # heads: their own task's gradient
    for task_loss, params in zip(losses, heads):
        ref = torch.autograd.grad(task_loss, params, retain_graph=True)
        for p, g in zip(params, ref):
            assert torch.allclose(p.grad, g)
    # backbone: PCGrad of the two task gradients
    g1, g2 = (torch.cat([g.reshape(-1) for g in torch.autograd.grad(l, shared, retain_graph=True)])
              for l in losses)
    dot = torch.dot(g1, g2)
    p1 = g1 - min(dot, 0) / g2.dot(g2) * g2
    p2 = g2 - min(dot, 0) / g1.dot(g1) * g1
    got = torch.cat([p.grad.reshape(-1) for p in shared])
    assert torch.allclose(got, p1 + p2, atol=1e-6, rtol=1e-4)
    if dot < 0:   # the projected task gradients no longer conflict
        assert torch.dot(p1, g2) > -1e-4 * g2.norm() ** 2


def test_default_backward_is_plain_sum(vt, tmp_path):
    mod = load_scaffold(vt, tmp_path, MTL)
    torch.manual_seed(0)
    model = mod.build_network("resnet20").eval()
    x = torch.randn(4, 3, 32, 32)
    fine, coarse = torch.randint(0, 100, (4,)), torch.randint(0, 20, (4,))
    shared, _, _ = _step_grads(mod, mod.MultiTaskLoss(), model, x, fine, coarse)
    _, losses = mod.task_losses(model, x, fine, coarse)
    ref = torch.autograd.grad(losses[0] + losses[1], shared)
    assert all(torch.allclose(p.grad, g) for p, g in zip(shared, ref))


def test_dwa_weights_follow_the_loss_ratios(vt, tmp_path):
    mod = load_scaffold(vt, tmp_path, MTL, vt.baseline_text(MTL, "dwa"))
    crit = mod.MultiTaskLoss()
    one = torch.tensor(1.0)
    # epochs 0 and 1: weights 1; epoch averages: fine 4 then 2, coarse 2 then 2
    for epoch, (f, c) in enumerate([(4.0, 2.0), (2.0, 2.0)]):
        for _ in range(3):
            out = crit(torch.tensor(f), torch.tensor(c), epoch, 10)
            assert float(out) == pytest.approx(f + c)
    out = crit(one, one, 2, 10)
    r = torch.tensor([2.0 / 4.0, 2.0 / 2.0])
    w = 2 * torch.softmax(r / 2.0, 0)
    assert float(out) == pytest.approx(float(w.sum()))
    assert torch.allclose(crit.weights, w)


def test_uncertainty_weighting_learns_log_variances(vt, tmp_path):
    mod = load_scaffold(vt, tmp_path, MTL, vt.baseline_text(MTL, "uncertainty"))
    crit = mod.MultiTaskLoss()
    assert [n for n, _ in crit.named_parameters()] == ["log_vars"]
    with torch.no_grad():
        crit.log_vars.copy_(torch.tensor([0.5, -0.5]))
    out = crit(torch.tensor(2.0), torch.tensor(3.0), 0, 10)
    expected = math.exp(-0.5) * 2 + 0.5 + math.exp(0.5) * 3 - 0.5
    assert out.item() == pytest.approx(expected)
