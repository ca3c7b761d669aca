"""Helpers for the vision driver tests: paths, task specs, workspaces, runs.

The drivers are scripts, not app modules: tests import vision_common from
its folder and run the scaffolds as subprocesses, the way the engine does.
"""

from __future__ import annotations

import os
import pickle
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = ROOT / "drivers"
VISION = DRIVERS / "pytorch_vision"
TASKS = ROOT / "tasks"
VISION_TASKS = ("cv-multitask-loss", "dl-activation-function")

if str(VISION) not in sys.path:
    sys.path.insert(0, str(VISION))

# Small runs: a few hundred generated images, one epoch.
TINY = ["--epochs", "1", "--train-size", "96", "--test-size", "64"]
METRICS_RE = re.compile(r"^TRAIN_METRICS: epoch=(\d+)((?: \w+=\S+)+)$", re.M)
FINAL_RE = re.compile(r"^FINAL_METRICS best_test_acc=(\S+) best_epoch=(\d+)$", re.M)


def load_spec(task: str) -> dict:
    with open(TASKS / task / "task.toml", "rb") as f:
        return tomllib.load(f)


def driver_source(entry: dict) -> Path:
    source = entry["source"]
    assert source.startswith("drivers:"), source
    return DRIVERS / source.removeprefix("drivers:")


def editable_file(spec: dict) -> tuple[dict, int, int]:
    """The spec's (file entry, start, end) of its one editable range."""
    for entry in spec["files"]:
        if entry.get("editable"):
            (start, end), = entry["editable"]
            return entry, start, end
    raise AssertionError("no editable file in spec")


def baseline_text(task: str, name: str) -> str:
    spec = load_spec(task)
    (b,) = [b for b in spec["baselines"] if b["name"] == name]
    return (TASKS / task / b["file"]).read_text()


def make_workspace(tmp_path: Path, task: str, region: str | None = None) -> Path:
    """Copy the task's files to their workspace paths under tmp_path, with the
    editable range replaced by ``region`` (text) when given; returns the
    workspace root."""
    spec = load_spec(task)
    ws = tmp_path / f"ws-{task}"
    for entry in spec["files"]:
        dest = ws / entry["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = driver_source(entry).read_text()
        if region is not None and entry.get("editable"):
            (start, end), = entry["editable"]
            lines = text.splitlines(keepends=True)
            text = "".join(lines[:start - 1]) + region + "".join(lines[end:])
        dest.write_text(text)
    return ws


def setting_argv(task: str, label: str, ws: Path, profile: str = "demo",
                 data_root: str | Path = "data", seed: int = 42) -> list[str]:
    spec = load_spec(task)
    (setting,) = [s for s in spec["settings"] if s["label"] == label]
    cmd = setting["command"].format(python="PYTHON", seed=seed, profile=profile,
                                    data_root=data_root)
    argv = cmd.split()
    assert argv[0] == "PYTHON"
    return [sys.executable] + argv[1:]


def run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("MLSBENCH_DATA", None)
    env.pop("MLSBENCH_DOWNLOAD", None)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def parse_metrics(stdout: str) -> list[dict]:
    rows = []
    for m in METRICS_RE.finditer(stdout):
        row = {"epoch": int(m.group(1))}
        for pair in m.group(2).split():
            key, value = pair.split("=")
            row[key] = float(value)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Tiny datasets in the real on-disk formats
# ---------------------------------------------------------------------------

PER_BATCH = 12   # images per CIFAR-10 batch file


def write_pickle(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def write_cifar10(root: Path, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    written = {"train_x": [], "train_y": [], "test_x": None, "test_y": None}
    for i in range(1, 6):
        data = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, PER_BATCH).tolist()
        write_pickle(folder / f"data_batch_{i}", {
            "batch_label": f"training batch {i} of 5", "labels": labels, "data": data,
            "filenames": [f"img_{i}_{j}.png" for j in range(PER_BATCH)]})
        written["train_x"].append(data)
        written["train_y"] += labels
    data = rng.integers(0, 256, (7, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, 7).tolist()
    write_pickle(folder / "test_batch", {"batch_label": "testing batch 1 of 1",
                                         "labels": labels, "data": data,
                                         "filenames": [f"t{j}.png" for j in range(7)]})
    written["test_x"], written["test_y"] = data, labels
    write_pickle(folder / "batches.meta", {
        "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                        "horse", "ship", "truck"],
        "num_cases_per_batch": PER_BATCH, "num_vis": 3072})
    written["train_x"] = np.concatenate(written["train_x"])
    return written


def write_cifar100(root: Path, vc, n_train: int = 40, n_test: int = 10, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    fine_to_coarse = np.array(vc.CIFAR100_FINE_TO_COARSE)
    written = {}
    for name, n in (("train", n_train), ("test", n_test)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        fine = rng.integers(0, 100, n)
        coarse = fine_to_coarse[fine]
        write_pickle(folder / name, {
            "filenames": [f"{name}_{j}.png" for j in range(n)], "batch_label": name,
            "fine_labels": fine.tolist(), "coarse_labels": coarse.tolist(), "data": data})
        written[name] = (data, fine.tolist(), coarse.tolist())
    write_pickle(folder / "meta", {"fine_label_names": [f"f{i}" for i in range(100)],
                                   "coarse_label_names": [f"c{i}" for i in range(20)]})
    return written


def write_idx(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">I", 0x0800 + array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_fmnist(root: Path, n_train: int = 30, n_test: int = 9, seed: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    raw = root / "FashionMNIST" / "raw"
    written = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(1, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        written[prefix] = (images, labels)
    return written


def baselines(task: str) -> list[str]:
    return [b["name"] for b in load_spec(task)["baselines"]]


def settings(task: str) -> list[str]:
    return [s["label"] for s in load_spec(task)["settings"]]


def pytest_generate_tests(metafunc):
    """Parametrize by name: ``mtl_baseline`` / ``act_baseline`` (every
    baseline of the task spec), ``vision_setting`` ((task, label) of every
    setting, hidden ones included)."""
    names = metafunc.fixturenames
    if "mtl_baseline" in names:
        metafunc.parametrize("mtl_baseline", baselines("cv-multitask-loss"))
    if "act_baseline" in names:
        metafunc.parametrize("act_baseline", baselines("dl-activation-function"))
    if "vision_setting" in names:
        pairs = [(t, label) for t in VISION_TASKS for label in settings(t)]
        metafunc.parametrize("vision_setting", pairs, ids=[f"{t}:{s}" for t, s in pairs])


@pytest.fixture(autouse=True)
def torch_runtime_restored():
    """A driver's setup run in this process (``--check`` called in-process,
    ``pick_device`` on demo) fixes torch's threads and deterministic mode for
    the whole process: put them back after each test."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.utils.deterministic.fill_uninitialized_memory = fill


@pytest.fixture(scope="session")
def vt():
    """This module: the helpers above, for the tests."""
    return sys.modules[__name__]


@pytest.fixture(scope="session")
def vc():
    """drivers/pytorch_vision/vision_common.py, imported from its folder."""
    import vision_common
    return vision_common


@pytest.fixture(scope="session")
def vf():
    """drivers/pytorch_vision/vision_family.py (the ten family scaffolds' helpers)."""
    import vision_family
    return vision_family
