"""The optimization-bilevel driver (drivers/bilevel): scaffold layout, toy
reproduction of the published figures, MNIST loading and pollution, every
method on the demo profile, strategy validation and the --check preflight.

The scaffold is a script, not an app module: fast tests import
bilevel_common / custom_strategy from their folder, the rest run the script
as a subprocess in a workspace laid out as the task spec says, the way the
engine does. Helpers live in this file (tests/drivers/conftest.py belongs to
the vision driver tests).
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BILEVEL = ROOT / "drivers" / "bilevel"
TASK = ROOT / "tasks" / "optimization-bilevel"

if str(BILEVEL) not in sys.path:
    sys.path.insert(0, str(BILEVEL))

import bilevel_common as bc  # noqa: E402

FINAL_TOY_KEYS = ["convergence_steps", "median_steps", "final_residual", "final_projected_grad",
                  "success_rate", "runtime_sec", "score"]
# The published driver's hyper-cleaning keys: one method key per method family.
AUX_KEY = {"v_pbgd": "penalty_gap", "g_pbgd": "grad_penalty", "rhg": "inner_objective", "t_rhg": "inner_objective"}


def train_hc_keys(method: str) -> list:
    return ["step", "train_loss", "val_loss", "test_accuracy", "f1_score", "cleaner_precision",
            "cleaner_recall", AUX_KEY[method], "iter_time"]


FINAL_HC_KEYS = (["test_accuracy", "f1_score", "cleaner_precision", "cleaner_recall", "best_step",
                  "runtime_sec", "total_runtime_sec"]
                 + [f"{who}_{key}" for who in ("best_accuracy", "best_f1")
                    for key in ("test_accuracy", "f1_score", "cleaner_precision", "cleaner_recall",
                                "step", "runtime_sec")]
                 + ["score"])


# --------------------------------------------------------------------------- helpers

def spec() -> dict:
    with open(TASK / "task.toml", "rb") as fh:
        return tomllib.load(fh)


def editable_entry():
    (entry,) = [f for f in spec()["files"] if f.get("editable")]
    (start, end), = entry["editable"]
    return entry, start, end


def scaffold_text() -> str:
    return (BILEVEL / "custom_strategy.py").read_text()


def baseline_text(name: str) -> str:
    (b,) = [b for b in spec()["baselines"] if b["name"] == name]
    return (TASK / b["file"]).read_text()


def with_block(block: str) -> str:
    """The scaffold with its editable range replaced by `block`."""
    _, start, end = editable_entry()
    lines = scaffold_text().splitlines(keepends=True)
    return "".join(lines[:start - 1]) + block + "".join(lines[end:])


def make_workspace(tmp_path: Path, block: str | None = None) -> Path:
    """The task's files at their workspace paths; returns the workspace root."""
    ws = tmp_path / "ws"
    for entry in spec()["files"]:
        dest = ws / entry["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = BILEVEL / entry["source"].removeprefix("drivers:bilevel/")
        text = src.read_text()
        if block is not None and entry.get("editable"):
            text = with_block(block)
        dest.write_text(text)
    return ws


def setting_argv(label: str, profile: str = "demo", data_root: str | Path = "data", seed: int = 42):
    (s,) = [s for s in spec()["settings"] if s["label"] == label]
    argv = s["command"].format(python="PYTHON", seed=seed, profile=profile, data_root=data_root).split()
    assert argv[0] == "PYTHON"
    return [sys.executable] + argv[1:]


def run(argv, cwd: Path, timeout: float = 300, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", **env_extra)
    env.pop("MLSBENCH_DATA", None)
    env.pop("MLSBENCH_DOWNLOAD", None)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def kv(line: str) -> dict:
    out = {}
    for pair in line.split()[1:]:
        key, value = pair.split("=", 1)
        out[key] = float(value)
    return out


def lines_with(prefix: str, text: str) -> list:
    return [ln for ln in text.splitlines() if ln.startswith(prefix)]


def load_module(path: Path, name: str):
    """Import a custom_strategy.py variant in-process (it imports no torch at import)."""
    mod_spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(mod_spec)
    sys.modules[name] = mod          # dataclasses look their module up
    mod_spec.loader.exec_module(mod)
    return mod


def published(entry: str, seed: str) -> float:
    rows = json.loads((TASK / "reference.json").read_text())["rows"]
    (row,) = [r for r in rows if r["entry"] == entry and r["seed"] == seed]
    return row["convergence_steps_toy_convergence"]


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the idx format of the MNIST files (big-endian header)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist(root: Path, n_train: int, n_test: int = 10, seed: int = 0):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    labels = (np.arange(n_train) % 10).astype(np.uint8)
    write_idx(raw / "train-images-idx3-ubyte", images)
    write_idx(raw / "train-labels-idx1-ubyte", labels)
    write_idx(raw / "t10k-images-idx3-ubyte", images[:n_test])
    write_idx(raw / "t10k-labels-idx1-ubyte", labels[:n_test])
    return images, labels


# --------------------------------------------------------------------------- layout

def test_editable_range_matches_marker_comments():
    entry, start, end = editable_entry()
    assert (start, end) == (216, 253)
    assert entry["path"] == "penalized-bilevel-gradient-descent/mlsbench/custom_strategy.py"
    lines = scaffold_text().splitlines()
    assert lines[start - 4].startswith("# ====")
    assert lines[start - 3] == "# EDITABLE: select supported methods and paper-style hyperparameters only"
    assert lines[start - 2].startswith("# ====")
    assert lines[start - 1] == "def get_toy_strategy() -> ToyStrategy:"
    assert lines[end - 1].strip() == 'raise ValueError(f"Unsupported network: {net}")'
    assert lines[end].startswith("# ====") and lines[end + 1] == "# END EDITABLE"
    # nothing between the markers lies outside the range
    assert "EDITABLE" not in "\n".join(lines[start - 1:end])


def test_v_pbgd_baseline_is_the_scaffold_block():
    _, start, end = editable_entry()
    block = "".join(scaffold_text().splitlines(keepends=True)[start - 1:end])
    assert baseline_text("v_pbgd") == block


def test_task_spec_files_exist():
    s = spec()
    for entry in s["files"]:
        assert (BILEVEL / entry["source"].removeprefix("drivers:bilevel/")).is_file()
    assert [b["name"] for b in s["baselines"]] == ["v_pbgd", "g_pbgd", "rhg", "t_rhg"]


@pytest.mark.parametrize("name", ["v_pbgd", "g_pbgd", "rhg", "t_rhg"])
def test_baseline_strategies_are_valid(name, tmp_path):
    path = tmp_path / f"cs_{name}.py"
    path.write_text(with_block(baseline_text(name)))
    mod = load_module(path, f"cs_{name}")
    toy = mod.get_toy_strategy()
    toy.validate()
    assert isinstance(toy, mod.ToyStrategy) and toy.gams == (10.0,) and toy.alpha0 == 0.1
    assert toy.method == ("g_pbgd" if name == "g_pbgd" else "v_pbgd")
    for net in ("linear", "mlp"):
        s = mod.get_hyperclean_strategy(net)
        s.validate()
        assert isinstance(s, mod.HypercleanStrategy) and s.method == name
    lin, mlp = mod.get_hyperclean_strategy("linear"), mod.get_hyperclean_strategy("mlp")
    if name in ("rhg", "t_rhg"):   # MLS-Bench's field names: lr is the step on x
        assert (lin.lr, lin.lr_inner, lin.outer_itr, lin.T, lin.reg, lin.eval_interval) == (0.001, 0.1, 100, 500, 0, 1)
        assert (mlp.lr, mlp.lr_inner, mlp.outer_itr, mlp.T) == (0.001, 0.4, 100, 500)
        assert lin.K == mlp.K == (500 if name == "rhg" else 100)
        assert lin.lrx == lin.lry == 0.0     # the published defaults, unused by RHG
    if name == "g_pbgd":
        assert (lin.lrx, lin.lry, lin.gamma_init, lin.gamma_max, lin.gamma_argmax_step, lin.outer_itr,
                lin.reg, lin.eval_interval) == (0.3, 0.5, 0, 37, 5000, 40000, 0, 10)
        assert (mlp.lrx, mlp.lry, mlp.gamma_max, mlp.gamma_argmax_step, mlp.outer_itr) == (0.5, 0.5, 37, 30000, 50000)


# --------------------------------------------------------------------------- toy

@pytest.mark.parametrize("method", ["v_pbgd", "g_pbgd"])
@pytest.mark.parametrize("seed", ["42", "123", "456"])
def test_toy_reproduces_published_per_seed_steps(method, seed):
    """Exact to the published 3 decimals (g_pbgd: 303.318 / 306.122 / 301.618)."""
    s = bc.run_toy(method, (10.0,), 0.1, int(seed)).summary()
    assert s["success_rate"] == 1.0
    assert f"{s['convergence_steps']:.3f}" == f"{published(f'baseline:{method}', seed):.3f}"


@pytest.mark.slow   # failed runs take their whole 20,000 steps
def test_toy_reproduces_transcript_strategies():
    """The three toy strategies of the published agent transcript, with the
    FINAL_METRICS that transcript shows (including failures charged at the
    budget and a schedule of two gammas)."""
    cases = [
        ((10.0,), 0.1, dict(convergence_steps=261.256, median_steps=303.0, final_residual=0.030345,
                            success_rate=1.0)),
        ((1.0, 10.0), 0.1, dict(convergence_steps=7711.351, median_steps=101.0, final_residual=0.474206,
                                final_projected_grad=1.256463, success_rate=0.809)),
        ((5.0,), 0.1, dict(convergence_steps=129.169, median_steps=143.0, final_residual=0.067240,
                           success_rate=1.0)),
        ((5.0,), 0.2, dict(convergence_steps=7363.511, median_steps=72.0, final_residual=0.150988,
                           final_projected_grad=3.812279, success_rate=0.634)),
    ]
    for gams, alpha0, want in cases:
        got = bc.run_toy("v_pbgd", gams, alpha0, 42).summary()
        for key, value in want.items():
            assert abs(got[key] - value) <= 5e-6 + 1e-5 * abs(value), (gams, alpha0, key, got[key], value)


def test_toy_last_runs_match_transcript():
    runs = bc.run_toy("v_pbgd", (10.0,), 0.1, 42).runs[-5:]
    assert [r.steps for r in runs] == [307, 312, 204, 309, 198]
    assert [round(r.objective, 6) for r in runs] == [0.423728, 0.423728, 0.174725, 0.423728, 0.174724]
    assert [round(r.residual, 6) for r in runs] == [0.038709, 0.038709, 0.023824, 0.038709, 0.023825]


def test_toy_initial_points_and_schedule():
    points = bc.toy_initial_points(7)
    assert len(points) == 1000 and points == bc.toy_initial_points(7)
    assert all(0 <= x <= 3.5 and -5 <= y <= 8.5 for x, y in points)
    # only gams[0] runs: later gammas change nothing but a failure's charge
    one = bc.run_toy("v_pbgd", (5.0,), 0.1, 42, n=50).summary()
    two = bc.run_toy("v_pbgd", (5.0, 20000.0), 0.1, 42, n=50).summary()
    assert {**one, "runtime_sec": 0} == {**two, "runtime_sec": 0}
    failing = bc.run_toy("v_pbgd", (5.0, 1.0, 1.0), 0.2, 42, n=20, max_steps=50).runs
    assert {r.steps for r in failing if not r.success} == {150}


@pytest.mark.slow
def test_toy_setting_output(tmp_path):
    ws = make_workspace(tmp_path)
    proc = run(setting_argv("toy-convergence"), ws, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "TRAIN_PLAN unit=run total=1000" in out
    rows = lines_with("TRAIN_METRICS", out)
    assert len(rows) == 1000
    assert list(kv(rows[-1])) == ["run", "step", "objective", "residual", "projected_grad", "success"]
    assert kv(rows[-1])["run"] == 999
    (final,) = lines_with("FINAL_METRICS", out)
    values = kv(final)
    assert list(values) == FINAL_TOY_KEYS
    assert values["convergence_steps"] == values["score"] == 261.256


# --------------------------------------------------------------------------- MNIST data

def test_mnist_loader_reads_idx_files(tmp_path):
    images, labels = write_mnist(tmp_path, n_train=37)
    assert bc.mnist_missing_files(str(tmp_path)) == []
    data, targets = bc.load_mnist_train(str(tmp_path))
    assert tuple(data.shape) == (37, 28, 28)
    assert np.array_equal(data.numpy(), images)
    assert np.array_equal(targets.numpy(), labels.astype(np.int64))
    # too few images for the split: reported, not crashed
    assert "needs 20000" in bc.mnist_file_problem(str(tmp_path))


def test_mnist_missing_and_corrupt_files_reported(tmp_path):
    missing = bc.mnist_missing_files(str(tmp_path))
    assert len(missing) == 4 and all(os.path.join("MNIST", "raw") in m for m in missing)
    write_mnist(tmp_path, n_train=30)
    img = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    img.write_bytes(img.read_bytes()[:-5])
    assert "truncated" in bc.mnist_file_problem(str(tmp_path), need=10)


def _pool_with_ids(n: int):
    """uint8 images whose pixels encode their index (and always hold a 255, so
    each split's max-scaling is by 255)."""
    import torch

    imgs = torch.zeros(n, 28, 28, dtype=torch.uint8)
    idx = torch.arange(n)
    imgs[:, 0, 0] = (idx % 256).to(torch.uint8)
    imgs[:, 0, 1] = (idx // 256).to(torch.uint8)
    imgs[:, 27, 27] = 255
    return imgs, idx % 10


def _ids(x):
    return (x[:, 0] * 255).round().long() + 256 * (x[:, 1] * 255).round().long()


def test_split_sizes_and_pollution_rate_are_exact():
    import random

    imgs, targets = _pool_with_ids(60000)
    d = bc.split_and_pollute(imgs, targets, random.Random(42))
    assert (d.tr_x.shape, d.val_x.shape, d.test_x.shape) == ((5000, 784), (5000, 784), (10000, 784))
    ids = [set(_ids(x).tolist()) for x in (d.tr_x, d.val_x, d.test_x)]
    assert [len(i) for i in ids] == [5000, 5000, 10000]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert float(d.tr_x.max()) == 1.0 and float(d.tr_x.min()) == 0.0
    # labels are the pool's
    assert np.array_equal(d.tr_clean_labels.numpy(), (_ids(d.tr_x) % 10).numpy())
    assert np.array_equal(d.val_y.numpy(), (_ids(d.val_x) % 10).numpy())
    # exactly 50% selected for pollution; labels change only there
    assert d.rho == 0.5 and int((d.tr_clean == 0).sum()) == 2500
    changed = (d.tr_dirty != d.tr_clean_labels).numpy()
    assert not changed[(d.tr_clean == 1).numpy()].any()
    # the official draw is uniform over all ten classes: ~1/10 keep their label
    assert 0.86 < changed[(d.tr_clean == 0).numpy()].mean() < 0.94
    assert int(d.tr_dirty.min()) >= 0 and int(d.tr_dirty.max()) <= 9
    # deterministic per seed, different across seeds
    again = bc.split_and_pollute(imgs, targets, random.Random(42))
    other = bc.split_and_pollute(imgs, targets, random.Random(43))
    assert np.array_equal(again.tr_dirty.numpy(), d.tr_dirty.numpy())
    assert not np.array_equal(_ids(other.tr_x).numpy(), _ids(d.tr_x).numpy())


def test_demo_pool_is_deterministic_and_mnist_shaped():
    import random

    a, la = bc.make_demo_pool()
    b, lb = bc.make_demo_pool()
    assert a.dtype.is_floating_point is False and tuple(a.shape) == (bc.DEMO_POOL, 28, 28)
    assert np.array_equal(a.numpy(), b.numpy()) and np.array_equal(la.numpy(), lb.numpy())
    assert sorted(set(la.tolist())) == list(range(10))
    d = bc.split_and_pollute(a, la, random.Random(1), bc.DEMO_SPLIT)
    assert (d.tr_x.shape[0], d.val_x.shape[0], d.test_x.shape[0]) == bc.DEMO_SPLIT
    assert int((d.tr_clean == 0).sum()) == bc.DEMO_SPLIT[0] // 2


def test_cleaner_metrics():
    import torch

    clean = torch.tensor([1.0, 1.0, 0.0, 0.0])
    p, r, f1 = bc.cleaner_metrics(torch.tensor([1.0, -1.0, 0.5, -2.0]), clean, 0.5)
    assert abs(p - 0.5) < 1e-6 and abs(r - 0.5) < 1e-6 and abs(f1 - 50.0) < 1e-4


# --------------------------------------------------------------------------- every method, demo

@pytest.mark.slow
@pytest.mark.parametrize("name", ["v_pbgd", "g_pbgd", "rhg", "t_rhg"])
def test_each_method_runs_demo(name, tmp_path):
    ws = make_workspace(tmp_path, baseline_text(name))
    proc = run(setting_argv("hyperclean-linear", data_root=tmp_path / "nodata"), ws, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    (plan,) = lines_with("TRAIN_PLAN", out)
    total = int(plan.split("total=")[1])
    rows = [kv(ln) for ln in lines_with("TRAIN_METRICS", out)]
    assert rows and all(list(r) == train_hc_keys(name) for r in rows)
    # cadence: PBGD every eval_interval (10) steps from step 0, the last step
    # not added; RHG every outer step
    steps = [int(r["step"]) for r in rows]
    assert steps == (list(range(0, total, 10)) if name in ("v_pbgd", "g_pbgd") else list(range(total)))
    assert total == (500 if name in ("v_pbgd", "g_pbgd") else 5)
    if name in ("rhg", "t_rhg"):
        assert all(r["inner_objective"] == r["train_loss"] for r in rows)
    (final,) = lines_with("FINAL_METRICS", out)
    values = kv(final)
    assert list(values) == FINAL_HC_KEYS
    best = max(rows, key=lambda r: (r["test_accuracy"], r["f1_score"]))
    assert values["score"] == values["test_accuracy"] == values["best_accuracy_test_accuracy"] == best["test_accuracy"]
    assert values["best_step"] == values["best_accuracy_step"] == best["step"]
    assert round(values["f1_score"], 3) == best["f1_score"]
    assert round(values["best_f1_f1_score"], 3) == max(r["f1_score"] for r in rows)
    assert values["test_accuracy"] > 60.0
    assert 0.0 <= values["cleaner_precision"] <= 1.0 and 0.0 <= values["cleaner_recall"] <= 1.0
    assert values["runtime_sec"] <= values["total_runtime_sec"]
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- validation and --check

@pytest.fixture(scope="module")
def scaffold(tmp_path_factory):
    """The scaffold module itself (its strategy classes and checks)."""
    path = tmp_path_factory.mktemp("scaffold") / "cs_scaffold.py"
    path.write_text(scaffold_text())
    return load_module(path, "cs_scaffold")


# Valid strategies per method (the published baselines' linear values).
VALID_HC = {
    "v_pbgd": dict(method="v_pbgd", lrx=0.1, lry=0.1, lr_inner=0.01, gamma_max=0.2, gamma_argmax_step=30_000,
                   outer_itr=40_000),
    "g_pbgd": dict(method="g_pbgd", lrx=0.3, lry=0.5, gamma_max=37.0, gamma_argmax_step=5_000, outer_itr=40_000),
    "rhg": dict(method="rhg", lr=0.001, lr_inner=0.1, outer_itr=100, T=500, K=500),
    "t_rhg": dict(method="t_rhg", lr=0.001, lr_inner=0.1, outer_itr=100, T=500, K=100),
}
PBGD, RHG, ALL = ("v_pbgd", "g_pbgd"), ("rhg", "t_rhg"), tuple(VALID_HC)
DROP = object()   # leave the field out (its published default applies)

# (methods, field, value, message): each check of the published driver.
HC_REFUSED = [
    (ALL, "method", "sgd", "hyperclean method 'sgd' is not supported"),
    (ALL, "eval_interval", 0, "eval_interval must be positive"),
    (ALL, "reg", -0.1, "reg must be non-negative"),
    (PBGD, "lrx", 0.0, "lrx must be positive"),
    (PBGD, "lry", -1.0, "lry must be positive"),
    (PBGD, "outer_itr", 0, "outer_itr must be positive"),
    (PBGD, "outer_itr", DROP, "outer_itr must be positive"),        # the default is 0, not 40000
    (PBGD, "outer_itr", 12.5, "outer_itr must be an integer"),
    (PBGD, "gamma_init", -0.5, "gamma_init must be non-negative"),
    (PBGD, "gamma_max", -1.0, "gamma_max must be non-negative"),
    (PBGD, "gamma_argmax_step", 0, "gamma_argmax_step must be positive"),
    (("v_pbgd",), "lr_inner", 0.0, "lr_inner must be positive for v_pbgd"),
    (("v_pbgd",), "inner_itr", 0, "inner_itr must be positive for v_pbgd"),
    (RHG, "lr", DROP, "lr must be positive"),                       # lrx is not RHG's step
    (RHG, "lr", -0.001, "lr must be positive"),
    (RHG, "lr_inner", 0.0, "lr_inner must be positive"),
    (RHG, "outer_itr", 0, "outer_itr must be positive"),
    (RHG, "T", 0, "T must be positive"),
    (RHG, "K", 0, "K must be positive"),
    (RHG, "K", 501, "K=501 cannot be larger than T=500"),
    (RHG, "T", "500", "T must be an integer"),
]
# Values the published driver accepts (no upper bounds; fields a method does not use are not checked).
HC_ACCEPTED = [
    (PBGD, "gamma_max", 20_000.0), (PBGD, "outer_itr", 300_000), (PBGD, "lrx", 50.0), (PBGD, "reg", 3.0),
    (PBGD, "gamma_init", 40.0), (PBGD, "gamma_argmax_step", 2.5), (PBGD, "eval_interval", 100_000),
    (PBGD, "T", 0), (PBGD, "lr", 0.0), (("v_pbgd",), "inner_itr", 500), (("g_pbgd",), "lr_inner", 0.0),
    (("g_pbgd",), "inner_itr", 0), (RHG, "T", 20_000), (RHG, "lrx", 0.0), (RHG, "lry", -1.0),
    (RHG, "gamma_argmax_step", 0), (("t_rhg",), "K", 1), (("rhg",), "K", 7),
]


def hc_strategy(mod, method, field=None, value=None):
    kwargs = dict(VALID_HC[method])
    if field is not None:
        kwargs.pop(field, None)
        if value is not DROP:
            kwargs[field] = value
    return mod.HypercleanStrategy(**kwargs)


def test_strategy_fields_and_defaults_are_mlsbench(scaffold):
    import dataclasses

    s = scaffold.HypercleanStrategy(method="v_pbgd")
    assert [(f.name, getattr(s, f.name)) for f in dataclasses.fields(s)] == [
        ("method", "v_pbgd"), ("lrx", 0.0), ("lry", 0.0), ("lr_inner", 0.0), ("gamma_init", 0.0),
        ("gamma_max", 0.0), ("gamma_argmax_step", 1), ("outer_itr", 0), ("inner_itr", 1), ("lr", 0.0),
        ("T", 0), ("K", 0), ("reg", 0.0), ("eval_interval", 10)]
    assert [f.name for f in dataclasses.fields(scaffold.ToyStrategy)] == ["method", "gams", "alpha0"]
    with pytest.raises(TypeError):
        scaffold.ToyStrategy(method="v_pbgd")           # no defaults
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.lrx = 0.5


@pytest.mark.parametrize("methods,field,value,message", HC_REFUSED, ids=lambda v: str(v)[:20])
def test_hyperclean_check_refuses(scaffold, methods, field, value, message):
    for method in methods:
        with pytest.raises(scaffold.StrategyError, match=message.replace("(", r"\(")):
            hc_strategy(scaffold, method, field, value).validate()


@pytest.mark.parametrize("methods,field,value", HC_ACCEPTED, ids=lambda v: str(v)[:20])
def test_hyperclean_check_accepts(scaffold, methods, field, value):
    for method in methods:
        hc_strategy(scaffold, method).validate()
        hc_strategy(scaffold, method, field, value).validate()


@pytest.mark.parametrize("kwargs,message", [
    (dict(method="adam", gams=(10.0,), alpha0=0.1), "toy method 'adam' is not supported"),
    (dict(method="v_pbgd", gams=(), alpha0=0.1), "gams must be a non-empty tuple of positive numbers"),
    (dict(method="v_pbgd", gams=10.0, alpha0=0.1), "gams must be a non-empty tuple of positive numbers"),
    (dict(method="g_pbgd", gams=(10.0, -1.0), alpha0=0.1), "gams\\[1\\] is -1.0"),
    (dict(method="g_pbgd", gams=(0.0,), alpha0=0.1), "gams\\[0\\] is 0.0"),
    (dict(method="v_pbgd", gams=(10.0,), alpha0=0.0), "alpha0 must be positive"),
    (dict(method="v_pbgd", gams=(10.0,), alpha0="0.1"), "alpha0 must be a number"),
])
def test_toy_check_refuses(scaffold, kwargs, message):
    with pytest.raises(scaffold.StrategyError, match=message):
        scaffold.ToyStrategy(**kwargs).validate()


@pytest.mark.parametrize("gams,alpha0", [
    (tuple(float(g) for g in range(1, 10)), 0.1),   # nine gammas
    ((20_000.0,), 0.1), ((5.0,), 50.0), ([10.0], 0.1), ((10,), 1),
])
def test_toy_check_accepts(scaffold, gams, alpha0):
    for method in ("v_pbgd", "g_pbgd"):
        scaffold.ToyStrategy(method=method, gams=gams, alpha0=alpha0).validate()


def bad_block(toy: str, hc: str) -> str:
    return (f"def get_toy_strategy() -> ToyStrategy:\n    return ToyStrategy({toy})\n\n\n"
            f"def get_hyperclean_strategy(net: str) -> HypercleanStrategy:\n"
            f"    return HypercleanStrategy({hc})\n")


TOY_OK = 'method="v_pbgd", gams=(10.0,), alpha0=0.1'
HC_OK = 'method="t_rhg", lr=0.001, lr_inner=0.1, outer_itr=100, T=500, K=100'
BAD_BLOCKS = {
    "toy method": ('method="adam", gams=(10.0,), alpha0=0.1', HC_OK, "toy", "'adam' is not supported"),
    "toy gams": ('method="v_pbgd", gams=(), alpha0=0.1', HC_OK, "toy", "gams must be a non-empty tuple"),
    "toy alpha0": ('method="v_pbgd", gams=(10.0,), alpha0=-0.1', HC_OK, "toy", "alpha0 must be positive"),
    "toy missing": ('method="v_pbgd", gams=(10.0,)', HC_OK, "toy", "raised TypeError"),
    "hc method": (TOY_OK, 'method="sgd"', "hyperclean", "'sgd' is not supported"),
    "hc rhg lrx": (TOY_OK, 'method="rhg", lrx=0.001, lr_inner=0.1, outer_itr=100, T=500, K=500', "hyperclean",
                   "lr must be positive for rhg"),
    "hc K": (TOY_OK, HC_OK.replace("K=100", "K=600"), "hyperclean", "K=600 cannot be larger than T=500"),
    "hc outer": (TOY_OK, 'method="g_pbgd", lrx=0.3, lry=0.5, gamma_max=37.0, outer_itr=12.5', "hyperclean",
                 "outer_itr must be an integer"),
}


@pytest.mark.parametrize("case", list(BAD_BLOCKS))
def test_invalid_strategy_is_refused_before_training(case, tmp_path):
    toy, hc, mode, message = BAD_BLOCKS[case]
    ws = make_workspace(tmp_path, bad_block(toy, hc))
    label = "toy-convergence" if mode == "toy" else "hyperclean-linear"
    for extra in ([], ["--check"]):
        proc = run(setting_argv(label) + extra, ws, timeout=60)
        assert proc.returncode != 0
        assert message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "TRAIN_PLAN" not in proc.stdout and "TRAIN_METRICS" not in proc.stdout
        first = proc.stderr.strip().splitlines()[0]
        assert first.startswith("CHECK FAILED:" if extra else "ERROR:")


def test_strategy_function_raising_is_reported(tmp_path):
    block = (baseline_text("v_pbgd").replace('if net == "mlp":', 'if net == "mlp-unknown":'))
    ws = make_workspace(tmp_path, block)
    proc = run(setting_argv("hyperclean-mlp") + ["--check"], ws, timeout=60)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "CHECK FAILED: get_hyperclean_strategy('mlp') raised ValueError: Unsupported network: mlp" \
        in proc.stderr


def test_check_demo_ok(tmp_path):
    ws = make_workspace(tmp_path)
    for label in ("toy-convergence", "hyperclean-linear"):
        proc = run(setting_argv(label, data_root=tmp_path / "nodata") + ["--check"], ws, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("CHECK OK")
        assert "TRAIN_PLAN" not in proc.stdout


def test_check_paper_reports_missing_mnist(tmp_path):
    ws = make_workspace(tmp_path)
    root = tmp_path / "data"
    proc = run(setting_argv("hyperclean-linear", profile="paper", data_root=root) + ["--check"], ws, timeout=60)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("CHECK FAILED: MNIST not found")
    assert str(root / "MNIST" / "raw") in line and "train-images-idx3-ubyte" in line
    assert "--download" in line
    # the run itself refuses the same way, before training
    proc = run(setting_argv("hyperclean-linear", profile="quick", data_root=root), ws, timeout=60)
    assert proc.returncode == 3 and "MNIST not found" in proc.stderr and "TRAIN_METRICS" not in proc.stdout
    # toy needs no data
    proc = run(setting_argv("toy-convergence", profile="paper", data_root=root) + ["--check"], ws, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("CHECK OK")


@pytest.mark.slow
def test_check_paper_with_mnist_files(tmp_path):
    ws = make_workspace(tmp_path)
    root = tmp_path / "data"
    write_mnist(root, n_train=100)
    proc = run(setting_argv("hyperclean-linear", profile="paper", data_root=root) + ["--check"], ws, timeout=60)
    assert proc.returncode != 0 and "hold 100 images; the split needs 20000" in proc.stderr
    write_mnist(root, n_train=20000)
    proc = run(setting_argv("hyperclean-mlp", profile="paper", data_root=root) + ["--check"], ws, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CHECK OK") and "MNIST" in proc.stdout
    # the real-data path end to end: quick profile, a tenth of 20 outer steps
    block = baseline_text("v_pbgd").replace("outer_itr=40_000", "outer_itr=20").replace(
        "eval_interval=10", "eval_interval=1")
    ws = make_workspace(tmp_path / "short", block)
    proc = run(setting_argv("hyperclean-linear", profile="quick", data_root=root), ws, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "data: train=5000 val=5000 test=10000 polluted=2500" in proc.stdout
    assert "TRAIN_PLAN unit=step total=2" in proc.stdout
    assert len(lines_with("TRAIN_METRICS", proc.stdout)) == 2
    assert len(lines_with("FINAL_METRICS", proc.stdout)) == 1


def test_profiles_scale_the_schedule(scaffold):
    mod = scaffold
    s = mod.get_hyperclean_strategy("linear")
    paper = mod.schedule_for_profile(s, "paper")
    quick = mod.schedule_for_profile(s, "quick")
    demo = mod.schedule_for_profile(s, "demo")
    assert (paper.outer_itr, paper.gamma_argmax_step) == (40000, 30000)
    assert (quick.outer_itr, quick.gamma_argmax_step) == (4000, 3000)
    assert (demo.outer_itr, demo.gamma_argmax_step) == (500, 375)
    r = mod.HypercleanStrategy(method="t_rhg", lr=0.001, lr_inner=0.1, outer_itr=100, T=500, K=100)
    d = mod.schedule_for_profile(r, "demo")
    assert (d.outer_itr, d.T, d.K, d.lr) == (5, 100, 20, 0.001)
    # rhg runs K as given, like t_rhg (the published driver does not force K = T)
    full = mod.schedule_for_profile(mod.HypercleanStrategy(method="rhg", T=300, K=7), "paper")
    assert (full.T, full.K) == (300, 7)
    # paper leaves every value as written (a fractional gamma_argmax_step too)
    odd = mod.HypercleanStrategy(method="g_pbgd", lrx=0.3, lry=0.5, gamma_argmax_step=2.5, outer_itr=7)
    assert mod.schedule_for_profile(odd, "paper").gamma_argmax_step == 2.5


@pytest.mark.parametrize("net,T,K", [("linear", 4, 4), ("linear", 5, 2), ("mlp", 3, 3), ("mlp", 4, 1)])
def test_rhg_hypergradient_matches_unrolled_autograd(net, T, K):
    """The reverse pass equals autograd through the unrolled inner loop for
    K = T; for K < T it is hypertorch's reverse over the published history
    [y_0, y_{T-K+1}, ..., y_T]: the deepest link is the step map's Jacobian at
    y_0, chained to the last K - 1 steps."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(3)
    n = 12
    data = bc.HypercleanData(torch.rand(n, 784, generator=g, dtype=torch.float64),
                             torch.randint(0, 10, (n,), generator=g), torch.zeros(n, dtype=torch.long),
                             np.ones(n), torch.rand(6, 784, generator=g, dtype=torch.float64),
                             torch.randint(0, 10, (6,), generator=g), None, None, 0.5)
    torch.manual_seed(0)
    init = [p.detach().double() for p in bc.build_net(net).parameters()]
    x = (0.5 * torch.randn(n, generator=g, dtype=torch.float64)).requires_grad_(True)
    lr, reg = 0.5, 0.01
    hyper, _, _ = bc.rhg_hypergradient(x, init, data, lr, reg, T, K)

    def step(params, weights):
        ce = F.cross_entropy(bc.functional_forward(params, data.tr_x), data.tr_dirty, reduction="none")
        loss = (weights * ce).mean() + reg * bc.sq_norm(params)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        return [p - lr * gr for p, gr in zip(params, grads)]

    iterates = [init]   # the plain iterates y_0 .. y_T
    for _ in range(T):
        iterates.append([p.detach() for p in step([q.clone().requires_grad_(True) for q in iterates[-1]],
                                                  torch.sigmoid(x).detach())])
    y = [p.clone() for p in init]
    for t in range(T - K, T):
        links = step(y if t > T - K else [p.clone().requires_grad_(True) for p in init], torch.sigmoid(x))
        if t == T - K and K < T:   # the value of y_{T-K+1}, the gradient of the link from y_0
            links = [m - m.detach() + v for m, v in zip(links, iterates[T - K + 1])]
        y = links
    f = F.cross_entropy(bc.functional_forward(y, data.val_x), data.val_y)
    (expected,) = torch.autograd.grad(f, x)
    assert torch.allclose(hyper, expected, rtol=1e-8, atol=1e-12)
    assert expected.abs().max() > 0


# --------------------------------------------------------------------------- results as published

def evaluation(step, acc, f1):
    return bc.Evaluation(step, 0.5, 0.4, acc, f1, 0.9, 0.8, float(step))


def test_best_evaluation_tie_breaking():
    first, same_acc_better_f1, same_f1_better_acc = evaluation(0, 90.0, 80.0), evaluation(1, 90.0, 85.0), \
        evaluation(2, 91.0, 80.0)
    assert bc.better_by_accuracy(None, first)
    assert bc.better_by_accuracy(first, same_acc_better_f1)        # accuracy tie: F1 decides
    assert not bc.better_by_accuracy(same_acc_better_f1, first)
    assert not bc.better_by_accuracy(first, evaluation(3, 90.0, 80.0))   # a full tie keeps the earlier
    assert bc.better_by_accuracy(same_acc_better_f1, same_f1_better_acc)
    assert bc.better_by_f1(first, same_f1_better_acc)              # F1 tie: accuracy decides
    assert not bc.better_by_f1(same_acc_better_f1, same_f1_better_acc)
    assert not bc.better_by_f1(first, evaluation(3, 90.0, 80.0))


def test_final_metrics_keys_and_values():
    import torch

    lines = []
    rec = bc.EvalRecorder(lines.append, "grad_penalty")
    data = bc.HypercleanData(None, None, None, torch.tensor([1.0, 1.0, 0.0, 0.0]), None, None, None, None, 0.5)
    x_good, x_bad = torch.tensor([1.0, 1.0, -1.0, -1.0]), torch.tensor([1.0, 1.0, 1.0, 1.0])
    rec.record(0, 1.0, 2.0, 80.0, x_bad, data, 0.3, 0.01)     # F1 66.7
    rec.record(10, 0.9, 1.9, 85.0, x_bad, data, 0.2, 0.01)    # best accuracy, tie broken by F1 below
    rec.record(20, 0.8, 1.8, 85.0, x_good, data, 0.1, 0.01)   # same accuracy, F1 100: replaces step 10
    rec.record(30, 0.7, 1.7, 84.0, x_good, data, 0.1, 0.01)   # same F1, lower accuracy: not the best F1
    assert [list(kv(ln)) for ln in lines] == [train_hc_keys("g_pbgd")] * 4
    m = rec.final_metrics()
    assert list(m) == FINAL_HC_KEYS
    assert (m["test_accuracy"], m["best_step"], m["score"]) == (85.0, 20.0, 85.0)
    assert abs(m["f1_score"] - 100.0) < 1e-3 and m["f1_score"] == m["best_accuracy_f1_score"]
    assert (m["best_f1_step"], m["best_f1_test_accuracy"]) == (20.0, 85.0)
    assert m["runtime_sec"] == m["best_accuracy_runtime_sec"] <= m["total_runtime_sec"]
    assert list(kv(rec.final_line())) == FINAL_HC_KEYS


def test_rhg_step_reports_best_over_kept_iterates():
    """test accuracy: the best kept iterate; train_loss: the lowest weighted
    loss among them (so an initial iterate that beats y_T counts)."""
    import torch

    g = torch.Generator().manual_seed(0)
    tr_x, test_x = torch.rand(20, 784, generator=g), torch.rand(30, 784, generator=g)
    truth = torch.nn.Linear(784, 10)
    torch.nn.init.normal_(truth.weight, generator=g)
    tr_y, test_y = truth(tr_x).argmax(1).detach(), truth(test_x).argmax(1).detach()
    data = bc.HypercleanData(tr_x, tr_y, tr_y, torch.ones(20), None, None, test_x, test_y, 0.5)
    exact = [truth.weight.detach(), truth.bias.detach()]
    noise = [torch.randn(10, 784, generator=g), torch.randn(10, generator=g)]
    x = torch.zeros(20)
    train_loss, acc = bc.evaluate_history([exact, noise, noise], x, data)
    assert acc == 100.0 and acc > bc.accuracy(bc.functional_forward(noise, test_x), test_y)
    assert train_loss == float(bc.weighted_loss(exact, x, data)) < float(bc.weighted_loss(noise, x, data))


# --------------------------------------------------------------------------- warnings, not refusals

def test_memory_warning_estimates_the_rhg_history(scaffold):
    import torch

    cpu, ram = torch.device("cpu"), 8 * 2 ** 30
    small = scaffold.schedule_for_profile(hc_strategy(scaffold, "rhg"), "paper")
    assert bc.memory_warning(small, "mlp", cpu, ram) is None
    pbgd = scaffold.schedule_for_profile(hc_strategy(scaffold, "v_pbgd"), "paper")
    assert bc.memory_warning(pbgd, "mlp", cpu, 1) is None
    big = scaffold.schedule_for_profile(hc_strategy(scaffold, "t_rhg", "K", 20_000), "paper")
    big.T = 20_000
    text = bc.memory_warning(big, "mlp", cpu, ram)
    need = 20_001 * 238_510 * 4
    assert bc.rhg_history_bytes(big, "mlp") == need
    assert text.startswith("WARNING: t_rhg with K=20000 keeps 20001 copies of the mlp model (238,510 parameters)")
    assert f"about {need / 2 ** 30:.1f} GiB of the cpu memory (8.0 GiB)" in text
    assert bc.device_memory_bytes(cpu) > 0


def test_pace_watch_warns_once_when_the_run_projects_past_an_hour():
    lines = []
    slow = bc.PaceWatch(outer_itr=10_000, emit=lines.append)
    slow.start -= 5.0                       # as if the first step took 5 s
    slow.step_ended(0)
    slow.step_ended(1)
    assert len(lines) == 1
    assert lines[0].startswith("WARNING: the first 1 outer steps took 5.0")
    assert "outer_itr=10000 projects to about 13.9 h on this machine" in lines[0]
    quick = bc.PaceWatch(outer_itr=100, emit=lines.append)
    quick.start -= 5.0                      # 100 steps at 5 s: under an hour
    quick.step_ended(0)
    assert len(lines) == 1


@pytest.mark.slow
def test_large_values_run_with_a_warning_instead_of_a_refusal(tmp_path):
    """Values beyond the old bounds pass the preflight, and a run whose pace
    projects past the limit (lowered here to 0.01 s) says so and goes on."""
    block = bad_block(TOY_OK, 'method="g_pbgd", lrx=0.3, lry=0.5, gamma_max=20000.0, gamma_argmax_step=5000, '
                              'outer_itr=300_000, eval_interval=2000')
    ws = make_workspace(tmp_path, block)
    argv = setting_argv("hyperclean-linear", data_root=tmp_path / "nodata")
    proc = run(argv + ["--check"], ws, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("CHECK OK"), proc.stderr
    src = ws / "penalized-bilevel-gradient-descent" / "mlsbench" / "bilevel_common.py"
    src.write_text(src.read_text().replace("SLOW_WARN_SEC = 3600.0", "SLOW_WARN_SEC = 0.01"))
    ws_block = ws / "penalized-bilevel-gradient-descent" / "mlsbench" / "custom_strategy.py"
    ws_block.write_text(ws_block.read_text().replace("outer_itr=300_000, eval_interval=2000",
                                                     "outer_itr=8_000, eval_interval=20"))
    proc = run(argv, ws, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "TRAIN_PLAN unit=step total=100" in proc.stdout
    (warning,) = lines_with("WARNING:", proc.stdout)
    assert "outer_itr=100 projects to about" in warning
    assert len(lines_with("FINAL_METRICS", proc.stdout)) == 1


# --------------------------------------------------------------------------- the seed transcript

def reindent_flattened(block: str) -> str:
    """The text transcript keeps one space of each indentation; put Python's
    back for blocks shaped like the strategy functions (def / if / return or
    raise statements, bracketed arguments one per line)."""
    out, depth, parens, first = [], 0, 0, ""
    for raw in block.splitlines():
        line = raw.strip()
        if not line:
            out.append("")
            continue
        if line.startswith("def "):
            depth = 0
        if parens == 0:
            first = line.split()[0]
        out.append("    " * (depth + parens - line.startswith(")")) + line)
        parens += line.count("(") - line.count(")")
        if parens == 0 and line.endswith(":"):
            depth += 1
        elif parens == 0 and first in ("return", "raise") and depth > 1:
            depth -= 1               # the statement ended its if-block
    return "\n".join(out) + "\n"


def seed_transcript_blocks():
    """The strategy blocks of the published optimization-bilevel transcript's edits."""
    from sessions.replay import EditStep, load_replay
    from tests.conftest import SHARED

    found = sorted((SHARED / "seeds").glob("*.txt")) if (SHARED / "seeds").is_dir() else []
    for path in found:
        replay = load_replay(path).replay
        if replay.task_id == "optimization-bilevel":
            return [reindent_flattened(s.content) for s in replay.steps if isinstance(s, EditStep)]
    pytest.skip("the optimization-bilevel seed transcript is not in ../shared/seeds")


def test_seed_transcript_strategies_are_accepted(tmp_path):
    blocks = seed_transcript_blocks()
    assert len(blocks) == 4
    gams = []
    for i, block in enumerate(blocks):
        path = tmp_path / f"cs_seed_{i}.py"
        path.write_text(with_block(block))
        mod = load_module(path, f"cs_seed_{i}")
        toy = mod.get_toy_strategy()
        toy.validate()
        gams.append(toy.gams)
        methods = []
        for net in ("linear", "mlp"):
            s = mod.get_hyperclean_strategy(net)
            s.validate()
            methods.append(s.method)
        assert methods == ["v_pbgd", "v_pbgd" if i == 1 else "g_pbgd"]
    assert gams == [(1.0, 10.0), (5.0,), (1.0, 10.0, 100.0), (5.0,)]


@pytest.mark.slow
def test_seed_transcript_strategies_pass_check(tmp_path):
    for i, block in enumerate(seed_transcript_blocks()):
        ws = make_workspace(tmp_path / str(i), block)
        for label in ("toy-convergence", "hyperclean-linear", "hyperclean-mlp"):
            proc = run(setting_argv(label, data_root=tmp_path / "nodata") + ["--check"], ws, timeout=120)
            assert proc.returncode == 0 and proc.stdout.startswith("CHECK OK"), (i, label, proc.stderr)


@pytest.mark.parametrize("method", ["v_pbgd", "g_pbgd"])
def test_pbgd_reports_the_lower_level_objective(method):
    """train_loss is g(x, y) = mean sigmoid(x_i) CE_i(y) + reg ||y||^2 and
    val_loss the clean validation CE, both before the step (x starts at 0)."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(1)
    data = bc.HypercleanData(torch.rand(40, 784, generator=g), torch.randint(0, 10, (40,), generator=g),
                             torch.randint(0, 10, (40,), generator=g), torch.ones(40),
                             torch.rand(20, 784, generator=g), torch.randint(0, 10, (20,), generator=g),
                             torch.rand(20, 784, generator=g), torch.randint(0, 10, (20,), generator=g), 0.5)
    cfg = bc.HypercleanConfig(method=method, lrx=0.1, lry=0.1, lr_inner=0.01, gamma_init=0.0, gamma_max=1.0,
                              gamma_argmax_step=1, outer_itr=1, inner_itr=1, lr=0.0, T=0, K=0, reg=0.01,
                              eval_interval=10)
    torch.manual_seed(0)
    start = list(bc.build_net("linear").parameters())
    torch.manual_seed(0)
    lines = []
    bc.run_hyperclean(cfg, "linear", data, torch.device("cpu"), lines.append)
    (row,) = [kv(ln) for ln in lines if ln.startswith("TRAIN_METRICS")]
    with torch.no_grad():
        ce = F.cross_entropy(bc.functional_forward(start, data.tr_x), data.tr_dirty, reduction="none")
        g_xy = float((0.5 * ce).mean() + 0.01 * bc.sq_norm(start))
        f_y = float(F.cross_entropy(bc.functional_forward(start, data.val_x), data.val_y))
    assert abs(row["train_loss"] - g_xy) <= 1e-6 and abs(row["val_loss"] - f_y) <= 1e-6
    assert abs(g_xy - float(ce.mean())) > 1e-3        # not the plain training CE
