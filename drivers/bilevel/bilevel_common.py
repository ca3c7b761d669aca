"""Fixed helpers of the optimization-bilevel scaffold (custom_strategy.py).

FIXED: this file is part of the benchmark, not of the editable block. It holds
the toy problem and its solvers, MNIST loading and pollution, the four
hyper-cleaning methods and their metrics. custom_strategy.py imports it from
its own folder.

Sources of the protocol (hanshen95/penalized-bilevel-gradient-descent, the
official code of Shen & Chen, "On Penalty-based Bilevel Gradient Descent
Method", ICML 2023):

- toy problem: V-PBGD/toy/toy.py (functions, set C = [0, 3], initial points,
  step alpha0 / gamma, stopping rule), plus the MLS-Bench driver conventions
  that the published numbers and transcripts show (see run_toy);
- hyper-cleaning: V-PBGD/data-hyper-cleaning/data_hyper_clean.py,
  G-PBGD/data_hyper_clean_gpbgd.py, RHG/data_hyper_clean_rhg.py (split,
  pollution, models, updates, penalty schedule, cleaner metrics).

The benchmark is MLS-Bench's driver for this task: where it departs from the
official scripts (the toy schedule, RHG's kept iterates, the reported values)
this code follows MLS-Bench and the comment next to it says so. The code here
is written for this project.

Metrics lines (``emit``) go to the channel the engine gives the run: a file
descriptor named in MLSBENCH_METRICS_FD, taken when this module is imported
(before custom_strategy.py's editable block runs) and the variable removed;
every line is printed too, for people. Run by hand, stdout only.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple


# ---------------------------------------------------------------------------
# Output: the metrics channel
# ---------------------------------------------------------------------------

METRICS_HEADS = ("TRAIN_METRICS", "FINAL_METRICS", "TRAIN_PLAN")


def _take_metrics_channel():
    """The file this run's results are read from, opened by the engine's runner on the
    descriptor named in MLSBENCH_METRICS_FD; None when run by hand. Taken at import, before
    the editable block runs, and the variable removed so that code does not find it by name:
    what that code prints stays log text."""
    fd = os.environ.pop("MLSBENCH_METRICS_FD", None)
    if fd is None:
        return None
    try:
        os.set_inheritable(int(fd), False)  # not handed to processes the editable code starts
        return os.fdopen(int(fd), "a", encoding="utf-8")
    except (ValueError, OSError) as exc:
        print(f"WARNING: the metrics channel MLSBENCH_METRICS_FD={fd!r} cannot be used ({exc}); "
              "this run reports no results", file=sys.stderr, flush=True)
        return None


_METRICS_CHANNEL = _take_metrics_channel()


def emit(line: str) -> None:
    """A line of the run's output; a metrics line also goes to the engine's channel."""
    if _METRICS_CHANNEL is not None and line.startswith(METRICS_HEADS):
        _METRICS_CHANNEL.write(line + "\n")
        _METRICS_CHANNEL.flush()
    print(line, flush=True)


# ---------------------------------------------------------------------------
# Toy problem (paper Section 5.1 / 6.1; official V-PBGD/toy/toy.py)
# ---------------------------------------------------------------------------
#   lower level  g(x, y) = (x + y)^2 + x sin^2(x + y)      (argmin_y: y = -x)
#   upper level  f(x, y) = cos(4y + 2) / (1 + e^(2 - 4x)) + 0.5 log((4x - 2)^2 + 1)
#   x in C = [0, 3] (projection), y free.
#
# The solver works on Python floats with the math module, one run at a time,
# in the published driver's order of operations: numpy's exp, log and hypot
# differ from libm's in the last bit for a few per cent of inputs, and the
# G-PBGD step counts are chaotic enough (their first steps sit at the edge of
# stability) that such a bit moves some runs by hundreds of steps.

TOY_RUNS = 1000                 # initial points per setting
TOY_XLIM = (0.0, 3.0)           # the set C
TOY_EPS = 1e-5                  # stop when ||projected gradient|| <= eps
TOY_MAX_STEPS_PER_GAMMA = 20000  # step budget of one penalty stage
TOY_INIT_X = (0.0, 3.5)         # x0 ~ U(0, 3.5)   (as in toy.py)
TOY_INIT_Y = (-5.0, 8.5)        # y0 ~ U(-5, 8.5)  (as in toy.py)

# How a schedule of several gammas is run, as the published MLS-Bench driver
# does (its published multi-gamma results are reproduced to the last printed
# digit): a run stops at the first stage in which it converges; a run that
# exhausts a stage's budget fails and is charged the whole budget
# len(gams) * TOY_MAX_STEPS_PER_GAMMA. In effect only gams[0] is ever run.
# (The official toy.py instead runs every gamma in turn, warm-started.)
TOY_SCHEDULE = "mlsbench"


def toy_f(x: float, y: float) -> float:
    """Upper-level objective f(x, y)."""
    return math.cos(4.0 * y + 2.0) / (1.0 + math.exp(2.0 - 4.0 * x)) + 0.5 * math.log((4.0 * x - 2.0) ** 2 + 1.0)


def _toy_grad_f(x: float, y: float) -> Tuple[float, float]:
    # The x-derivative keeps the official code's denominator 1 + e^(2(2-4x))
    # (the exact derivative has (1 + e^(2-4x))^2). The published convergence
    # figures were produced with it, so it is part of the benchmark.
    e = math.exp(2.0 - 4.0 * x)
    return (4.0 * e * math.cos(4.0 * y + 2.0) / (1.0 + e ** 2) + (16.0 * x - 8.0) / ((4.0 * x - 2.0) ** 2 + 1.0),
            -4.0 * math.sin(4.0 * y + 2.0) / (1.0 + e))


def _toy_penalty_grad_v(x: float, y: float) -> Tuple[float, float]:
    """Gradient of g (V-PBGD's penalty g - v, with v = min_y g = 0)."""
    s = math.sin(x + y)
    c = math.cos(x + y)
    return 2.0 * (x + y + 0.5 * s ** 2 + x * s * c), 2.0 * (x + y + x * s * c)


def _toy_penalty_grad_g(x: float, y: float) -> Tuple[float, float]:
    """Gradient of G-PBGD's penalty (dg/dy)^2 / 2."""
    s = math.sin(x + y)
    c = math.cos(x + y)
    gy = 2.0 * (x + y + x * s * c)
    dgy_dx = 2.0 * (1.0 + s * c + x * (c ** 2 - s ** 2))
    dgy_dy = 2.0 * (1.0 + x * (c ** 2 - s ** 2))
    return gy * dgy_dx, gy * dgy_dy


TOY_PENALTY_GRADS: Dict[str, Callable[[float, float], Tuple[float, float]]] = {
    "v_pbgd": _toy_penalty_grad_v, "g_pbgd": _toy_penalty_grad_g}


def toy_initial_points(seed: int, n: int = TOY_RUNS) -> List[Tuple[float, float]]:
    """n initial points, drawn as toy.py does: x then y per run from Python's
    Mersenne Twister (seeded with `seed`), uniform on TOY_INIT_X x TOY_INIT_Y."""
    rng = random.Random(seed)
    return [(rng.uniform(*TOY_INIT_X), rng.uniform(*TOY_INIT_Y)) for _ in range(n)]


@dataclass
class ToyRun:
    steps: int             # steps charged (a failed run: the whole budget)
    objective: float       # f at the point of the last gradient (x_{T-1}, y_{T-1})
    residual: float        # |x_T + y_T|, distance to the lower-level solution y = -x
    projected_grad: float  # the last projected-gradient norm
    success: bool


def toy_run(x: float, y: float, method: str, gams: Sequence[float], alpha0: float,
            max_steps: int = TOY_MAX_STEPS_PER_GAMMA, eps: float = TOY_EPS) -> ToyRun:
    """Projected gradient descent on f + gamma * penalty from (x, y), with step
    alpha0 / gamma, stopping after the step whose projected gradient
    (z_t - z_{t+1}) / alpha has norm <= eps (that step is counted)."""
    penalty_grad = TOY_PENALTY_GRADS[method]
    lo, hi = TOY_XLIM
    steps = 0
    x_eval, y_eval = math.nan, math.nan
    residual, pg = math.inf, math.inf
    success = False
    gamma = gams[0]              # TOY_SCHEDULE: no run ever reaches a second stage
    alpha = alpha0 / gamma
    for _ in range(max_steps):
        x_eval, y_eval = x, y
        fx, fy = _toy_grad_f(x, y)
        px, py = penalty_grad(x, y)
        x_next = min(max(x - alpha * (fx + gamma * px), lo), hi)
        y_next = y - alpha * (fy + gamma * py)
        pg = math.hypot((x - x_next) / alpha, (y - y_next) / alpha)
        residual = abs(x_next + y_next)
        x, y = x_next, y_next
        steps += 1
        if pg <= eps:
            success = True
            break
    if not success:
        steps = len(gams) * max_steps
    objective = toy_f(x_eval, y_eval) if steps else math.nan
    return ToyRun(steps, objective, residual, pg, success)


@dataclass
class ToyResult:
    runs: List[ToyRun]
    runtime_sec: float

    def summary(self) -> Dict[str, float]:
        """The published driver's FINAL_METRICS (median: the upper middle element)."""
        steps = [r.steps for r in self.runs]
        n = len(steps)
        return {
            "convergence_steps": float(sum(steps) / n),
            "median_steps": float(sorted(steps)[n // 2]),
            "final_residual": float(sum(r.residual for r in self.runs) / n),
            "final_projected_grad": float(sum(r.projected_grad for r in self.runs) / n),
            "success_rate": float(sum(r.success for r in self.runs) / n),
            "runtime_sec": float(self.runtime_sec),
            "score": float(sum(steps) / n),
        }


def run_toy(method: str, gams: Sequence[float], alpha0: float, seed: int, n: int = TOY_RUNS,
            max_steps: int = TOY_MAX_STEPS_PER_GAMMA,
            on_run: Optional[Callable[[int, ToyRun], None]] = None) -> ToyResult:
    """All runs of the toy setting; on_run(i, run) is called as each ends.
    runtime_sec is the whole setting's time, as published."""
    start = time.perf_counter()
    gams = [float(g) for g in gams]
    runs = []
    for i, (x, y) in enumerate(toy_initial_points(seed, n)):
        run = toy_run(x, y, method, gams, float(alpha0), max_steps)
        runs.append(run)
        if on_run is not None:
            on_run(i, run)
    return ToyResult(runs, time.perf_counter() - start)


# ---------------------------------------------------------------------------
# Data hyper-cleaning: data
# ---------------------------------------------------------------------------

HC_SPLIT = (5000, 5000, 10000)  # train / validation / test, drawn from MNIST's 60,000 training images
HC_POLLUTE_RATE = 0.5
DEMO_SPLIT = (1000, 500, 1000)
DEMO_POOL = 3000
DEMO_DATA_SEED = 20230205       # the demo images are the same for every --seed

MNIST_RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def mnist_raw_dir(data_root: str) -> str:
    return os.path.join(data_root, "MNIST", "raw")


def mnist_missing_files(data_root: str) -> List[str]:
    """The raw idx files torchvision's MNIST(root=data_root) needs and that are absent."""
    raw = mnist_raw_dir(data_root)
    return [os.path.join(raw, f) for f in MNIST_RAW_FILES if not os.path.isfile(os.path.join(raw, f))]


def mnist_help(data_root: str) -> str:
    raw = mnist_raw_dir(data_root)
    return (f"expected the uncompressed MNIST idx files {', '.join(MNIST_RAW_FILES)} in {raw} "
            f"(torchvision layout <data-root>/MNIST/raw). Get them with torchvision "
            f"(torchvision.datasets.MNIST(root='{data_root}', download=True)) on a machine with network, "
            f"or run this script once with --download; or gunzip the four *.gz files from the "
            f"MNIST site into that folder; or use --profile demo, which needs no data")


def mnist_file_problem(data_root: str, need: int = sum(HC_SPLIT)) -> Optional[str]:
    """None if the MNIST training idx files are well-formed and hold at least
    `need` images, else what is wrong with them."""
    import struct

    raw = mnist_raw_dir(data_root)
    counts = {}
    for name, magic, item in (("train-images-idx3-ubyte", 2051, 784), ("train-labels-idx1-ubyte", 2049, 1)):
        path = os.path.join(raw, name)
        try:
            with open(path, "rb") as fh:
                head = fh.read(16 if item > 1 else 8)
            size = os.path.getsize(path)
        except OSError as exc:
            return f"cannot read {path}: {exc}"
        if len(head) < 8 or struct.unpack(">I", head[:4])[0] != magic:
            return f"{path} is not an uncompressed idx file (bad magic number)"
        n = struct.unpack(">I", head[4:8])[0]
        if size != len(head) + n * item:
            return f"{path} is truncated or corrupt ({size} bytes for {n} items)"
        counts[name] = n
    n_img, n_lab = counts.values()
    if n_img != n_lab:
        return f"MNIST image and label files disagree ({n_img} images, {n_lab} labels) in {raw}"
    if n_img < need:
        return f"MNIST training files in {raw} hold {n_img} images; the split needs {need}"
    return None


def load_mnist_train(data_root: str, download: bool = False):
    """MNIST training images (uint8, N x 28 x 28) and labels (int64) through
    torchvision (the official scripts use MNIST(train=True) only)."""
    from torchvision.datasets import MNIST

    ds = MNIST(root=data_root, train=True, download=download)
    return ds.data, ds.targets


def make_demo_pool(n: int = DEMO_POOL, seed: int = DEMO_DATA_SEED):
    """A deterministic MNIST-shaped pool: uint8 28x28 images, labels 0..9,
    about as sparse as MNIST (mean ink ~0.1). Each class is three random pen
    strokes; an image draws its class's strokes with jittered end points and a
    random pen width and ink, sometimes one extra stroke from a random class,
    and sparse pixel noise. A linear model learns it (about 95% clean test
    accuracy), so label noise and cleaning both show."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    n_seg, jitter = 3, 1.6
    ends = 5 + 18 * torch.rand(10, n_seg, 2, 2, generator=gen)        # class, stroke, end, (x, y)
    labels = (torch.arange(n) % 10)[torch.randperm(n, generator=gen)]
    strokes = ends[labels] + jitter * torch.randn(n, n_seg, 2, 2, generator=gen)
    extra = ends[torch.randint(0, 10, (n,), generator=gen), torch.randint(0, n_seg, (n,), generator=gen)]
    extra = extra + jitter * torch.randn(n, 2, 2, generator=gen)
    has_extra = (torch.rand(n, generator=gen) < 0.3).float()
    strokes = torch.cat([strokes, extra[:, None]], dim=1)             # n, 4, 2, 2
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    pix = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)        # 784, 2
    a = strokes[:, :, 0][:, :, None]
    ab = strokes[:, :, 1][:, :, None] - a
    t = (((pix - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-6)).clamp(0, 1)
    dist2 = ((pix - (a + t[..., None] * ab)) ** 2).sum(-1)            # n, 4, 784
    width = 0.8 + 0.6 * torch.rand(n, 1, 1, generator=gen)
    ink = torch.exp(-dist2 / (2 * width ** 2))
    ink[:, n_seg] *= has_extra[:, None]
    img = ink.amax(dim=1) * (0.7 + 0.3 * torch.rand(n, 1, generator=gen))
    img = img + 0.15 * torch.rand(n, 784, generator=gen) * (torch.rand(n, 784, generator=gen) < 0.05)
    img = (img.clamp(0, 1) * 255).round().to(torch.uint8).reshape(n, 28, 28)
    return img, labels.long()


@dataclass
class HypercleanData:
    tr_x: "object"          # float tensors, flattened, scaled to [0, 1]
    tr_dirty: "object"      # polluted training labels (what the methods see)
    tr_clean_labels: "object"
    tr_clean: "object"      # float32, 1 = label left untouched, 0 = selected for pollution
    val_x: "object"
    val_y: "object"
    test_x: "object"
    test_y: "object"
    rho: float

    def to(self, device):
        for k in ("tr_x", "tr_dirty", "tr_clean_labels", "tr_clean", "val_x", "val_y", "test_x", "test_y"):
            setattr(self, k, getattr(self, k).to(device))
        return self


def split_and_pollute(images, targets, rng: random.Random,
                      sizes: Tuple[int, int, int] = HC_SPLIT,
                      rho: float = HC_POLLUTE_RATE) -> HypercleanData:
    """Split and pollution as in the official scripts (same order of draws from
    Python's `random`, so a seed gives the official script's split):
    shuffle the indices of the pool, take train / val / test in that order;
    then shuffle the training indices and pollute the first int(rho * n_train):
    each gets randint(0, 9) -- uniform over all ten classes, so about a tenth
    of them keep their true label -- and is flagged as not clean. Each split's
    pixels are divided by that split's maximum."""
    import torch

    n_tr, n_val, n_test = sizes
    number = int(targets.shape[0])
    if n_tr + n_val + n_test > number:
        raise ValueError(f"need {n_tr + n_val + n_test} images for the split, the pool has {number}")
    order = list(range(number))
    rng.shuffle(order)
    idx_tr = torch.tensor(order[:n_tr])
    idx_val = torch.tensor(order[n_tr:n_tr + n_val])
    idx_test = torch.tensor(order[n_tr + n_val:n_tr + n_val + n_test])

    def prep(idx):
        d = images[idx]
        d = d.float() / torch.max(d).float()
        return d.reshape(d.shape[0], -1), targets[idx].clone().long()

    tr_x, tr_y = prep(idx_tr)
    val_x, val_y = prep(idx_val)
    test_x, test_y = prep(idx_test)

    classes = sorted(set(tr_y.tolist()))
    dirty = tr_y.clone()
    clean = torch.ones(n_tr)
    positions = list(range(n_tr))
    rng.shuffle(positions)
    for i in positions[:int(rho * n_tr)]:
        others = len(classes) - 1          # the official draws randint(0, len(classes minus the true one))
        dirty[i] = rng.randint(0, others)
        clean[i] = 0
    return HypercleanData(tr_x, dirty, tr_y, clean, val_x, val_y, test_x, test_y, rho)


# ---------------------------------------------------------------------------
# Data hyper-cleaning: models and metrics
# ---------------------------------------------------------------------------

NET_PARAMETERS = {"linear": 784 * 10 + 10, "mlp": 784 * 300 + 300 + 300 * 10 + 10}


def build_net(net: str):
    """linear: 784 -> 10; mlp: 784 -> 300 -> sigmoid -> 10 (official models)."""
    import torch

    if net == "linear":
        return torch.nn.Sequential(torch.nn.Linear(784, 10))
    if net == "mlp":
        return torch.nn.Sequential(torch.nn.Linear(784, 300), torch.nn.Sigmoid(), torch.nn.Linear(300, 10))
    raise ValueError(f"unknown net {net!r} (linear or mlp)")


def functional_forward(params, data):
    """Forward of build_net's models from a flat parameter list [W, b] or [W1, b1, W2, b2]."""
    import torch.nn.functional as F
    import torch

    if len(params) == 2:
        return F.linear(data, params[0], params[1])
    h = torch.sigmoid(F.linear(data, params[0], params[1]))
    return F.linear(h, params[2], params[3])


def sq_norm(tensors):
    return sum((t * t).sum() for t in tensors)


def weighted_loss(params, x, data: HypercleanData):
    """The lower-level objective without reg: mean_i sigmoid(x_i) CE_i(y)."""
    import torch
    import torch.nn.functional as F

    ce = F.cross_entropy(functional_forward(params, data.tr_x), data.tr_dirty, reduction="none")
    return (torch.sigmoid(x) * ce).mean()


def accuracy(logits, target) -> float:
    """Percent correct, computed as the published driver does (100 * correct / n)."""
    return 100.0 * (logits.argmax(dim=1) == target).sum().item() / len(target)


def cleaner_metrics(x, clean, rho: float) -> Tuple[float, float, float]:
    """Samples with x >= 0 are kept. precision = kept-and-clean / kept,
    recall = kept-and-clean / clean, F1 in percent (official formulas, in
    float32 tensors as published)."""
    keep = (x >= 0).float()
    kept_clean = (keep * clean).mean()
    p = kept_clean / (keep.mean() + 1e-8)
    r = kept_clean / (1.0 - rho + 1e-8)
    f1 = 100.0 * 2.0 * p * r / (p + r + 1e-8)
    return float(p), float(r), float(f1)


@dataclass
class HypercleanConfig:
    """The strategy after the profile's schedule scaling (plain values)."""
    method: str
    lrx: float
    lry: float
    lr_inner: float
    gamma_init: float
    gamma_max: float
    gamma_argmax_step: float
    outer_itr: int
    inner_itr: int
    lr: float
    T: int
    K: int
    reg: float
    eval_interval: float


# ---------------------------------------------------------------------------
# Data hyper-cleaning: what a run costs this machine
# ---------------------------------------------------------------------------
# The published driver sets no upper bound on any value; where a strategy would
# strain this machine the driver says so, with an estimate, and runs it.

MEMORY_WARN_SHARE = 0.5         # warn when the RHG history needs this share of the device's memory
SLOW_WARN_SEC = 3600.0          # warn when the measured pace projects a longer run
PACE_SAMPLE_SEC = 2.0           # measure the pace over at least this long ...
PACE_SAMPLE_STEPS = 10          # ... or this many outer steps, whichever comes first


def device_memory_bytes(device) -> Optional[int]:
    """The memory the run's tensors live in: the GPU's, or this machine's RAM."""
    if device.type == "cuda":
        import torch

        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def rhg_history_bytes(cfg: HypercleanConfig, net: str) -> int:
    """RHG / T-RHG keep K + 1 float32 copies of the model for the reverse pass."""
    return (cfg.K + 1) * NET_PARAMETERS[net] * 4


def memory_warning(cfg: HypercleanConfig, net: str, device, total: Optional[int] = None) -> Optional[str]:
    """A warning when RHG's history needs a large share of the device's memory
    (total: that memory in bytes, measured when not given)."""
    if cfg.method not in ("rhg", "t_rhg"):
        return None
    total = total or device_memory_bytes(device)
    need = rhg_history_bytes(cfg, net)
    if not total or need < MEMORY_WARN_SHARE * total:
        return None
    return (f"WARNING: {cfg.method} with K={cfg.K} keeps {cfg.K + 1} copies of the {net} model "
            f"({NET_PARAMETERS[net]:,} parameters) for the reverse pass: about {need / 2 ** 30:.1f} GiB "
            f"of the {device.type} memory ({total / 2 ** 30:.1f} GiB); it may run out of memory")


class PaceWatch:
    """Times the first outer steps and, once, warns when outer_itr at that
    pace would take longer than SLOW_WARN_SEC."""

    def __init__(self, outer_itr: int, emit: Callable[[str], None]):
        self.outer_itr = outer_itr
        self.emit = emit
        self.start = time.perf_counter()
        self.done = False

    def step_ended(self, k: int) -> None:
        if self.done:
            return
        elapsed = time.perf_counter() - self.start
        if elapsed < PACE_SAMPLE_SEC and k + 1 < PACE_SAMPLE_STEPS:
            return
        self.done = True
        pace = elapsed / (k + 1)
        projected = pace * self.outer_itr
        if projected > SLOW_WARN_SEC:
            self.emit(f"WARNING: the first {k + 1} outer steps took {pace:.3f} s each; "
                      f"outer_itr={self.outer_itr} projects to about {projected / 3600:.1f} h on this machine")


# ---------------------------------------------------------------------------
# Data hyper-cleaning: evaluations and the final line
# ---------------------------------------------------------------------------

def _fmt(v: float, digits: int = 6) -> str:
    return f"{float(v):.{digits}f}"


@dataclass
class Evaluation:
    step: int
    train_loss: float
    val_loss: float
    test_accuracy: float
    f1_score: float
    cleaner_precision: float
    cleaner_recall: float
    runtime_sec: float          # since the start of training


TIE = 1e-12                     # the published driver's tolerance for equal scores


def better_by_accuracy(best: Optional[Evaluation], cur: Evaluation) -> bool:
    """Higher accuracy wins; equal accuracy, higher F1."""
    return (best is None or cur.test_accuracy > best.test_accuracy + TIE
            or (abs(cur.test_accuracy - best.test_accuracy) <= TIE and cur.f1_score > best.f1_score))


def better_by_f1(best: Optional[Evaluation], cur: Evaluation) -> bool:
    """Higher F1 wins; equal F1, higher accuracy."""
    return (best is None or cur.f1_score > best.f1_score + TIE
            or (abs(cur.f1_score - best.f1_score) <= TIE and cur.test_accuracy > best.test_accuracy))


class EvalRecorder:
    """Prints TRAIN_METRICS lines and keeps the best evaluation by accuracy and by F1."""

    def __init__(self, emit: Callable[[str], None], aux_key: str):
        self.emit = emit
        self.aux_key = aux_key
        self.start = time.perf_counter()
        self.best_accuracy: Optional[Evaluation] = None
        self.best_f1: Optional[Evaluation] = None

    def record(self, step: int, train_loss: float, val_loss: float, test_accuracy: float, x,
               data: HypercleanData, aux_value: float, iter_time: float) -> None:
        p, r, f1 = cleaner_metrics(x, data.tr_clean, data.rho)
        cur = Evaluation(step, train_loss, val_loss, test_accuracy, f1, p, r, time.perf_counter() - self.start)
        if better_by_accuracy(self.best_accuracy, cur):
            self.best_accuracy = cur
        if better_by_f1(self.best_f1, cur):
            self.best_f1 = cur
        self.emit(
            f"TRAIN_METRICS step={step} train_loss={_fmt(train_loss)} val_loss={_fmt(val_loss)} "
            f"test_accuracy={_fmt(test_accuracy, 3)} f1_score={_fmt(f1, 3)} "
            f"cleaner_precision={_fmt(p)} cleaner_recall={_fmt(r)} "
            f"{self.aux_key}={_fmt(aux_value)} iter_time={_fmt(iter_time)}"
        )

    def final_metrics(self) -> Dict[str, float]:
        """The published driver's FINAL_METRICS, in its order; runtime_sec is
        the time until the best-accuracy evaluation."""
        a, b = self.best_accuracy, self.best_f1
        if a is None or b is None:
            raise RuntimeError("the run ended without an evaluation")
        out = {"test_accuracy": a.test_accuracy, "f1_score": a.f1_score,
               "cleaner_precision": a.cleaner_precision, "cleaner_recall": a.cleaner_recall,
               "best_step": float(a.step), "runtime_sec": a.runtime_sec,
               "total_runtime_sec": time.perf_counter() - self.start}
        for prefix, e in (("best_accuracy", a), ("best_f1", b)):
            out.update({f"{prefix}_test_accuracy": e.test_accuracy, f"{prefix}_f1_score": e.f1_score,
                        f"{prefix}_cleaner_precision": e.cleaner_precision,
                        f"{prefix}_cleaner_recall": e.cleaner_recall,
                        f"{prefix}_step": float(e.step), f"{prefix}_runtime_sec": e.runtime_sec})
        out["score"] = a.test_accuracy
        return out

    def final_line(self) -> str:
        return "FINAL_METRICS " + " ".join(f"{k}={_fmt(v)}" for k, v in self.final_metrics().items())


# ---------------------------------------------------------------------------
# Data hyper-cleaning: methods
# ---------------------------------------------------------------------------
# Bilevel problem: min_x f(y) = CE on the clean validation set,
#   s.t. y in argmin_y g(x, y) = mean_i sigmoid(x_i) CE_i(y) (+ reg ||y||^2)
# on the polluted training set; x_i >= 0 marks sample i as clean.


def _penalty_schedule(cfg: HypercleanConfig):
    gamma_max = max(cfg.gamma_max, cfg.gamma_init)   # official: gamma_max = gamma_init if smaller
    step = (gamma_max - cfg.gamma_init) / cfg.gamma_argmax_step
    return cfg.gamma_init, gamma_max, step


def train_pbgd(cfg: HypercleanConfig, net_kind: str, data: HypercleanData, device, rec: EvalRecorder,
               pace: PaceWatch):
    """V-PBGD (value-function penalty, official data_hyper_clean.py) and
    G-PBGD (gradient-norm penalty, official data_hyper_clean_gpbgd.py).
    One outer step: [V: inner_itr SGD steps on omega ~ argmin_y g(x, .)];
    loss = min(1/gamma, 1) * (f(y) + gamma * penalty); one SGD step on x (lrx)
    and on y (lry); gamma grows linearly from gamma_init to gamma_max over
    gamma_argmax_step steps. Every eval_interval steps (step 0 included) a
    TRAIN_METRICS line: train_loss = g(x, y) and val_loss = f(y) before the
    step, test accuracy after it; penalty_gap = g(x, y) - g(x, omega) (V) or
    grad_penalty = ||grad_y g(x, y)|| (G), as the published driver prints."""
    import copy
    import torch
    import torch.nn.functional as F

    x = torch.zeros(data.tr_x.shape[0], device=device, requires_grad=True)
    net = build_net(net_kind).to(device)
    params = list(net.parameters())
    y_opt = torch.optim.SGD(params, lr=cfg.lry)
    x_opt = torch.optim.SGD([x], lr=cfg.lrx)
    if cfg.method == "v_pbgd":
        netin = copy.deepcopy(net)
        in_params = list(netin.parameters())
        opt_in = torch.optim.SGD(in_params, lr=cfg.lr_inner)
    gam, gamma_max, step_gam = _penalty_schedule(cfg)
    for k in range(cfg.outer_itr):
        t0 = time.perf_counter()
        if cfg.method == "v_pbgd":
            with torch.no_grad():
                w = torch.sigmoid(x)
            for _ in range(cfg.inner_itr):
                opt_in.zero_grad()
                ce_in = F.cross_entropy(netin(data.tr_x), data.tr_dirty, reduction="none")
                loss_in = (w * ce_in).mean() + cfg.reg * sq_norm(in_params)
                loss_in.backward()
                opt_in.step()
        y_opt.zero_grad()
        x_opt.zero_grad()
        fy = F.cross_entropy(net(data.val_x), data.val_y)
        ce_tr = F.cross_entropy(net(data.tr_x), data.tr_dirty, reduction="none")
        gxy = (torch.sigmoid(x) * ce_tr).mean() + cfg.reg * sq_norm(params)
        lr_decay = min(1.0 / (gam + 1e-8), 1.0)
        if cfg.method == "v_pbgd":
            with torch.no_grad():
                ce_w = F.cross_entropy(netin(data.tr_x), data.tr_dirty, reduction="none")
                reg_w = cfg.reg * sq_norm(in_params)
            vx = (torch.sigmoid(x) * ce_w).mean() + reg_w      # depends on x only
            aux = gxy - vx
            loss = lr_decay * (fy + gam * aux)
        else:
            dgdy = torch.autograd.grad(gxy, params, create_graph=True)
            aux = torch.sqrt(sq_norm(dgdy) + 1e-12)
            loss = lr_decay * (fy + 0.5 * gam * sq_norm(dgdy))
        loss.backward()
        x_opt.step()
        y_opt.step()
        gam = min(gamma_max, gam + step_gam)
        iter_time = time.perf_counter() - t0
        pace.step_ended(k)
        if k % cfg.eval_interval == 0:
            with torch.no_grad():
                acc = accuracy(net(data.test_x), data.test_y)
                rec.record(k, float(gxy), float(fy), acc, x.detach(), data, float(aux), iter_time)


def rhg_hypergradient(x, init_params, data: HypercleanData, lr_inner: float, reg: float, T: int, K: int):
    """One RHG hypergradient, as the published driver computes it with
    hypertorch's `reverse`: T steps y <- y - lr_inner * grad_y g(x, y) from
    init_params, keeping the history [y_0, y_{T-K+1}, ..., y_T] (the initial
    iterate and the last K); then back through the K links of that history,
    each step re-applied with a graph. For K = T this is exact RHG; for K < T
    the deepest link maps y_0 (not y_{T-K}), as published. Returns
    (d f(y_T) / dx, the history, f(y_T))."""
    import torch
    import torch.nn.functional as F

    def fp_map(params, weights, create_graph):
        ce = F.cross_entropy(functional_forward(params, data.tr_x), data.tr_dirty, reduction="none")
        loss = (weights * ce).mean() + reg * sq_norm(params)
        grads = torch.autograd.grad(loss, params, create_graph=create_graph)
        return [p - lr_inner * g for p, g in zip(params, grads)]

    cur = [p.detach() for p in init_params]
    w = torch.sigmoid(x).detach()
    history = [cur]
    for t in range(T):
        req = [q.detach().requires_grad_(True) for q in cur]
        cur = [p.detach() for p in fp_map(req, w, create_graph=False)]
        if t >= T - K:
            history.append(cur)
    y_T = [p.detach().clone().requires_grad_(True) for p in history[-1]]
    f_val = F.cross_entropy(functional_forward(y_T, data.val_x), data.val_y)
    alphas = torch.autograd.grad(f_val, y_T)
    hyper = torch.zeros_like(x)
    for j in range(len(history) - 2, -1, -1):
        y_j = [p.detach().clone().requires_grad_(True) for p in history[j]]
        mapped = fp_map(y_j, torch.sigmoid(x), create_graph=True)
        grads = torch.autograd.grad(mapped, [x] + y_j, grad_outputs=list(alphas))
        hyper = hyper + grads[0]
        alphas = grads[1:]
    return hyper, history, f_val.detach()


def evaluate_history(history, x, data: HypercleanData) -> Tuple[float, float]:
    """(lowest sigmoid(x)-weighted training loss, best test accuracy) over the
    kept iterates, as the published driver reports an RHG step."""
    train_loss = min(float(weighted_loss(p, x, data)) for p in history)
    acc = max([0.0] + [accuracy(functional_forward(p, data.test_x), data.test_y) for p in history])
    return train_loss, acc


def train_rhg(cfg: HypercleanConfig, net_kind: str, data: HypercleanData, device, rec: EvalRecorder,
              pace: PaceWatch):
    """RHG / T-RHG (official RHG/data_hyper_clean_rhg.py through the published
    driver): each outer step starts y from fresh initial parameters, runs T
    inner steps, takes the hypergradient through the last K of them (rhg and
    t_rhg run the same code with K as given) and one SGD step on x (lr).
    A TRAIN_METRICS line every outer step: over the kept iterates (the initial
    one and the last K), test accuracy is the best and train_loss (also
    printed as inner_objective) the lowest sigmoid(x)-weighted training loss,
    with x after its step; val_loss = f(y_T)."""
    import torch

    x = torch.zeros(data.tr_x.shape[0], device=device, requires_grad=True)
    x_opt = torch.optim.SGD([x], lr=cfg.lr)
    for k in range(cfg.outer_itr):
        net = build_net(net_kind).to(device)
        t0 = time.perf_counter()
        hyper, history, f_val = rhg_hypergradient(x, list(net.parameters()), data, cfg.lr_inner, cfg.reg,
                                                  cfg.T, cfg.K)
        x_opt.zero_grad()
        x.grad = hyper
        x_opt.step()
        iter_time = time.perf_counter() - t0
        pace.step_ended(k)
        with torch.no_grad():
            train_loss, acc = evaluate_history(history, x.detach(), data)
            rec.record(k, train_loss, float(f_val), acc, x.detach(), data, train_loss, iter_time)


AUX_KEYS = {"v_pbgd": "penalty_gap", "g_pbgd": "grad_penalty", "rhg": "inner_objective", "t_rhg": "inner_objective"}


def run_hyperclean(cfg: HypercleanConfig, net_kind: str, data: HypercleanData, device,
                   emit: Callable[[str], None]) -> EvalRecorder:
    if cfg.method not in AUX_KEYS:
        raise ValueError(f"unknown method {cfg.method!r}")
    rec = EvalRecorder(emit, AUX_KEYS[cfg.method])
    pace = PaceWatch(cfg.outer_itr, emit)
    train = train_pbgd if cfg.method in ("v_pbgd", "g_pbgd") else train_rhg
    train(cfg, net_kind, data, device, rec, pace)
    return rec
