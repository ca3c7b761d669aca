"""MLS-Bench optimization-bilevel scaffold: penalty-based bilevel GD (Shen & Chen, 2023).

EDITABLE: only the block between the "EDITABLE" and "END EDITABLE" marker
comments below (lines 216-253 as published): get_toy_strategy() and
get_hyperclean_strategy(net). They choose a supported method and its
paper-style hyperparameters by returning a ToyStrategy / HypercleanStrategy.

FIXED: everything else -- this file's dataclasses, validation and main, and
bilevel_common.py beside it (toy problem, initial points, stopping rule,
MNIST split and pollution, models, methods, metrics). Lines outside the block
must stay byte-identical to the scaffold.

Methods
  toy:         v_pbgd (value-function penalty), g_pbgd (gradient-norm penalty)
  hyperclean:  v_pbgd, g_pbgd, rhg (reverse hypergradient through all T inner
               steps), t_rhg (truncated: the last K of T inner steps)

Toy setting: 1000 initial points (seeded by --seed), x projected onto [0, 3],
projected gradient descent on f + gamma * penalty with step alpha0 / gamma for
each gamma in `gams`, at most 20,000 steps per gamma; a run succeeds when the
projected-gradient norm drops to 1e-5. As in the published MLS-Bench driver,
a run stops at its first converged stage and a failed run is charged the whole
budget len(gams) * 20,000 (so in effect only gams[0] is run).
convergence_steps = mean steps over the 1000 runs (lower is better).

Hyper-cleaning setting: 5000 train / 5000 validation / 10000 test images from
MNIST's training set, 50% of the training labels polluted (official logic); a
weight sigmoid(x_i) per training sample; a linear model or a 784-300-10
sigmoid MLP. Reported: best test_accuracy (higher is better) and the cleaner's
F1 / precision / recall at that step.

Usage
  python custom_strategy.py --mode toy --seed 42 --profile paper
  python custom_strategy.py --mode hyperclean --net linear --seed 42 \
      --profile paper --data-root DATA
  python custom_strategy.py --mode hyperclean --net mlp --profile demo
  python custom_strategy.py ... --check      # preflight, trains nothing

Profiles: paper (the published protocol), quick (MNIST, a tenth of
outer_itr and gamma_argmax_step), demo (generated MNIST-shaped data, a
1000/500/1000 split; PBGD: 1/80 of outer_itr and gamma_argmax_step; RHG:
1/20 of outer_itr and 1/5 of T and K).
MNIST is read through torchvision from <data-root>/MNIST/raw (uncompressed
idx files); --download lets torchvision fetch it where the network allows.

Paper hyperparameters (official scripts and README; the task's baselines)
  toy, v_pbgd and g_pbgd:  gams=(10.0,), alpha0=0.1
  v_pbgd  linear: lrx=0.1 lry=0.1 lr_inner=0.01 gamma_max=0.2
                  gamma_argmax_step=30000 outer_itr=40000 inner_itr=1
          mlp:    lrx=0.1 lry=0.01 lr_inner=0.01 gamma_max=0.1
                  gamma_argmax_step=10000 outer_itr=80000 inner_itr=1
  g_pbgd  linear: lrx=0.3 lry=0.5 gamma_max=37 gamma_argmax_step=5000
                  outer_itr=40000
          mlp:    lrx=0.5 lry=0.5 gamma_max=37 gamma_argmax_step=30000
                  outer_itr=50000
  rhg     linear: lrx=0.001 lr_inner=0.1 outer_itr=100 T=500 (K=T)
          mlp:    the same with lr_inner=0.4
  t_rhg   as rhg with K=100
  All: gamma_init=0, reg=0; the PBGD loss is scaled by min(1/gamma, 1) and
  gamma grows linearly from gamma_init to gamma_max over gamma_argmax_step.

Exit status: 0 finished; 2 strategy refused (message on stderr, before any
training); 3 data missing. With --check: "CHECK OK ..." on stdout and exit
0, or "CHECK FAILED: ..." on stderr and a non-zero exit.

Output lines
  toy:        TRAIN_PLAN unit=run total=1000
              TRAIN_METRICS run step objective residual projected_grad success
              FINAL_METRICS convergence_steps (mean; failures at the budget)
                median_steps final_residual final_projected_grad success_rate
                runtime_sec score (= convergence_steps)
  hyperclean: TRAIN_PLAN unit=step total=<outer_itr>
              TRAIN_METRICS step train_loss val_loss test_accuracy f1_score
                cleaner_precision cleaner_recall penalty_gap iter_time
              FINAL_METRICS test_accuracy (best) and, at that step, best_step
                f1_score cleaner_precision cleaner_recall penalty_gap
                train_loss val_loss runtime_to_best_sec; final_test_accuracy
                runtime_sec score (= test_accuracy)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, fields
from typing import Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bilevel_common as bc  # noqa: E402

TOY_METHODS = ("v_pbgd", "g_pbgd")
HYPERCLEAN_METHODS = ("v_pbgd", "g_pbgd", "rhg", "t_rhg")
NETS = ("linear", "mlp")


class StrategyError(ValueError):
    """A strategy the driver refuses (unsupported method, value out of range)."""


def _number(name, value, lo, hi, lo_open=False, integer=False):
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StrategyError(f"{name} must be {kind}, got {value!r}")
    if integer and not (isinstance(value, int) or float(value).is_integer()):
        raise StrategyError(f"{name} must be {kind}, got {value!r}")
    if not math.isfinite(float(value)):
        raise StrategyError(f"{name} must be finite, got {value!r}")
    low_ok = value > lo if lo_open else value >= lo
    if not (low_ok and value <= hi):
        bracket = "(" if lo_open else "["
        raise StrategyError(f"{name}={value!r} is out of range {bracket}{lo}, {hi}]")
    return int(value) if integer else float(value)


@dataclass
class ToyStrategy:
    """Toy mode. method: v_pbgd | g_pbgd. gams: penalty constants, in order
    (1 to 8 values in (0, 10000]). alpha0: step size is alpha0 / gamma,
    alpha0 in (0, 10]."""

    method: str = "v_pbgd"
    gams: Tuple[float, ...] = (10.0,)
    alpha0: float = 0.1

    def __post_init__(self):
        if self.method not in TOY_METHODS:
            raise StrategyError(
                f"toy method {self.method!r} is not supported; choose one of {', '.join(TOY_METHODS)}")
        gams = self.gams
        if isinstance(gams, (int, float)) and not isinstance(gams, bool):
            gams = (gams,)
        if not isinstance(gams, (tuple, list)) or not 1 <= len(gams) <= 8:
            raise StrategyError(f"gams must be a tuple of 1 to 8 numbers, got {self.gams!r}")
        self.gams = tuple(_number(f"gams[{i}]", g, 0.0, 1e4, lo_open=True) for i, g in enumerate(gams))
        self.alpha0 = _number("alpha0", self.alpha0, 0.0, 10.0, lo_open=True)


@dataclass
class HypercleanStrategy:
    """Hyper-cleaning mode. Fields used per method:
    v_pbgd: lrx, lry, lr_inner, gamma_init, gamma_max, gamma_argmax_step,
            outer_itr, inner_itr, reg
    g_pbgd: lrx, lry, gamma_init, gamma_max, gamma_argmax_step, outer_itr, reg
    rhg:    lrx (step on x), lr_inner, outer_itr, T, reg   (K = T)
    t_rhg:  lrx, lr_inner, outer_itr, T, K (1 <= K <= T), reg
    eval_interval: outer steps between TRAIN_METRICS lines (all methods).
    Ranges: learning rates (0, 10]; gammas [0, 10000]; gamma_argmax_step
    [1, 1e6]; outer_itr [1, 200000]; inner_itr [1, 100]; reg [0, 1];
    eval_interval [1, 10000]; T [1, 5000]; K [1, T]."""

    method: str
    lrx: float = 0.1
    lry: float = 0.1
    lr_inner: float = 0.01
    gamma_init: float = 0.0
    gamma_max: float = 0.2
    gamma_argmax_step: int = 30_000
    outer_itr: int = 40_000
    inner_itr: int = 1
    reg: float = 0.0
    eval_interval: int = 10
    T: int = 500
    K: int = 500

    def __post_init__(self):
        if self.method not in HYPERCLEAN_METHODS:
            raise StrategyError(
                f"hyperclean method {self.method!r} is not supported; "
                f"choose one of {', '.join(HYPERCLEAN_METHODS)}")
        for name in ("lrx", "lry", "lr_inner"):
            setattr(self, name, _number(name, getattr(self, name), 0.0, 10.0, lo_open=True))
        self.gamma_init = _number("gamma_init", self.gamma_init, 0.0, 1e4)
        self.gamma_max = _number("gamma_max", self.gamma_max, 0.0, 1e4)
        self.gamma_argmax_step = _number("gamma_argmax_step", self.gamma_argmax_step, 1, 1_000_000,
                                         integer=True)
        self.outer_itr = _number("outer_itr", self.outer_itr, 1, 200_000, integer=True)
        self.inner_itr = _number("inner_itr", self.inner_itr, 1, 100, integer=True)
        self.reg = _number("reg", self.reg, 0.0, 1.0)
        self.eval_interval = _number("eval_interval", self.eval_interval, 1, 10_000, integer=True)
        self.T = _number("T", self.T, 1, 5000, integer=True)
        self.K = _number("K", self.K, 1, self.T, integer=True)


def _scaled(value: int, factor: float) -> int:
    return max(1, int(round(value * factor)))


def schedule_for_profile(s: HypercleanStrategy, profile: str) -> bc.HypercleanConfig:
    """The strategy's schedule as the profile runs it (paper: unchanged)."""
    rhg = s.method in ("rhg", "t_rhg")
    outer = {"paper": 1.0, "quick": 0.1, "demo": 0.05 if rhg else 0.0125}[profile]
    inner = 0.2 if profile == "demo" else 1.0
    cfg = bc.HypercleanConfig(**{f.name: getattr(s, f.name) for f in fields(s)})
    cfg.outer_itr = _scaled(s.outer_itr, outer)
    cfg.gamma_argmax_step = _scaled(s.gamma_argmax_step, outer)
    if rhg:
        cfg.T = _scaled(s.T, inner)
        cfg.K = min(cfg.T, _scaled(s.K, inner))
    if s.method == "rhg":
        cfg.K = cfg.T
    return cfg


def describe(s) -> str:
    return " ".join(f"{f.name}={getattr(s, f.name)!r}" for f in fields(s))


# Fixed above; the block below is called once, before training, and validated.
# =====================================================================
# EDITABLE: select supported methods and paper-style hyperparameters only
# =====================================================================
def get_toy_strategy() -> ToyStrategy:
    return ToyStrategy(
        method="v_pbgd",
        gams=(10.0,),
        alpha0=0.1,
    )


def get_hyperclean_strategy(net: str) -> HypercleanStrategy:
    if net == "linear":
        return HypercleanStrategy(
            method="v_pbgd",
            lrx=0.1,
            lry=0.1,
            lr_inner=0.01,
            gamma_init=0.0,
            gamma_max=0.2,
            gamma_argmax_step=30_000,
            outer_itr=40_000,
            inner_itr=1,
            reg=0.0,
            eval_interval=10,
        )
    if net == "mlp":
        return HypercleanStrategy(
            method="v_pbgd",
            lrx=0.1,
            lry=0.01,
            lr_inner=0.01,
            gamma_init=0.0,
            gamma_max=0.1,
            gamma_argmax_step=10_000,
            outer_itr=80_000,
            inner_itr=1,
            reg=0.0,
            eval_interval=10,
        )
    raise ValueError(f"Unsupported network: {net}")
# =====================================================================
# END EDITABLE
# =====================================================================


def emit(line: str) -> None:
    print(line, flush=True)


class Refused(Exception):
    """An expected failure: message for the person, no traceback."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def build_strategy(mode: str, net: str):
    what = "get_toy_strategy()" if mode == "toy" else f"get_hyperclean_strategy({net!r})"
    want = ToyStrategy if mode == "toy" else HypercleanStrategy
    try:
        s = get_toy_strategy() if mode == "toy" else get_hyperclean_strategy(net)
    except StrategyError as exc:
        raise Refused(f"invalid strategy from {what}: {exc}")
    except Exception as exc:  # the editable block raised something else
        raise Refused(f"{what} raised {type(exc).__name__}: {exc}")
    if not isinstance(s, want):
        raise Refused(f"{what} must return a {want.__name__}, got {type(s).__name__}")
    return s


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="MLS-Bench optimization-bilevel driver")
    p.add_argument("--mode", choices=("toy", "hyperclean"), required=True)
    p.add_argument("--net", choices=NETS, default="linear")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--profile", choices=("paper", "quick", "demo"), default="paper")
    p.add_argument("--data-root", default=os.environ.get("MLSBENCH_DATA") or "data")
    p.add_argument("--check", action="store_true", help="preflight only: strategy and data")
    p.add_argument("--download", action="store_true", default=os.environ.get("MLSBENCH_DOWNLOAD") == "1",
                   help="let torchvision download MNIST if missing (default off, or $MLSBENCH_DOWNLOAD=1)")
    return p.parse_args(argv)


def run_toy(args, s: ToyStrategy) -> None:
    emit(f"toy: {describe(s)} seed={args.seed} runs={bc.TOY_RUNS} "
         f"max_steps_per_gamma={bc.TOY_MAX_STEPS_PER_GAMMA} eps={bc.TOY_EPS} schedule={bc.TOY_SCHEDULE}")
    emit(f"TRAIN_PLAN unit=run total={bc.TOY_RUNS}")
    res = bc.run_toy(s.method, s.gams, s.alpha0, args.seed)
    for i in range(bc.TOY_RUNS):
        emit(f"TRAIN_METRICS run={i} step={int(res.steps[i])} objective={res.objective[i]:.6f} "
             f"residual={res.residual[i]:.6f} projected_grad={res.projected_grad[i]:.6f} "
             f"success={int(res.success[i])}")
    emit("FINAL_METRICS " + " ".join(f"{k}={v:.6f}" for k, v in res.summary().items()))


def pick_device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def require_mnist(args) -> bool:
    """Refuse (exit 3) unless MNIST is present and sound, or may be downloaded.
    Returns whether files are missing (and will be downloaded)."""
    missing = bc.mnist_missing_files(args.data_root)
    if missing and not args.download:
        raise Refused("MNIST not found: " + bc.mnist_help(args.data_root), code=3)
    problem = None if missing else bc.mnist_file_problem(args.data_root)
    if problem:
        raise Refused(problem + "; " + bc.mnist_help(args.data_root), code=3)
    return bool(missing)


def load_data(args, rng):
    if args.profile == "demo":
        images, targets = bc.make_demo_pool()
        return bc.split_and_pollute(images, targets, rng, bc.DEMO_SPLIT)
    try:
        images, targets = bc.load_mnist_train(args.data_root, download=args.download)
    except Exception as exc:
        raise Refused(f"could not load MNIST ({type(exc).__name__}: {exc}); "
                      + bc.mnist_help(args.data_root), code=3)
    return bc.split_and_pollute(images, targets, rng, bc.HC_SPLIT)


def run_hyperclean(args, s: HypercleanStrategy) -> None:
    import random
    import torch

    if args.profile != "demo":
        require_mnist(args)
    cfg = schedule_for_profile(s, args.profile)
    device = pick_device()
    emit(f"hyperclean: net={args.net} profile={args.profile} seed={args.seed} device={device} "
         f"strategy: {describe(s)}")
    emit("schedule run: " + " ".join(f"{f.name}={getattr(cfg, f.name)!r}" for f in fields(cfg)))
    emit(f"TRAIN_PLAN unit=step total={cfg.outer_itr}")
    rng = random.Random(args.seed)   # official: random.seed(seed); torch.manual_seed(seed)
    torch.manual_seed(args.seed)
    data = load_data(args, rng)
    emit(f"data: train={data.tr_x.shape[0]} val={data.val_x.shape[0]} test={data.test_x.shape[0]} "
         f"polluted={int((data.tr_clean == 0).sum())} "
         f"labels_changed={int((data.tr_dirty != data.tr_clean_labels).sum())}")
    data.to(device)
    start = time.perf_counter()
    rec = bc.run_hyperclean(cfg, args.net, data, device, emit)
    emit(rec.final_line(time.perf_counter() - start))


def check(args, s) -> str:
    """Preflight: strategy built (done by the caller), data present, one tiny run."""
    if args.mode == "toy":
        bc.run_toy(s.method, s.gams, s.alpha0, args.seed, n=4, max_steps=20)
        return f"mode=toy method={s.method} gams={s.gams} alpha0={s.alpha0}"
    import torch

    if args.profile == "demo":
        where = "data=generated"
    else:
        missing = require_mnist(args)
        where = f"data={bc.mnist_raw_dir(args.data_root)}" + (" (download allowed)" if missing else "")
    cfg = schedule_for_profile(s, args.profile)
    cfg.outer_itr, cfg.eval_interval = 2, 1
    cfg.T, cfg.K = min(cfg.T, 3), min(cfg.K, 3)
    g = torch.Generator().manual_seed(0)
    tiny = bc.HypercleanData(torch.rand(32, 784, generator=g), torch.randint(0, 10, (32,), generator=g),
                             torch.randint(0, 10, (32,), generator=g), (torch.arange(32) % 2).numpy(),
                             torch.rand(16, 784, generator=g), torch.randint(0, 10, (16,), generator=g),
                             torch.rand(16, 784, generator=g), torch.randint(0, 10, (16,), generator=g), 0.5)
    bc.run_hyperclean(cfg, args.net, tiny, torch.device("cpu"), lambda line: None)
    return f"mode=hyperclean net={args.net} profile={args.profile} method={s.method} {where}"


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        s = build_strategy(args.mode, args.net)
        if args.check:
            emit(f"CHECK OK {check(args, s)}")
            return 0
        if args.mode == "toy":
            run_toy(args, s)
        else:
            run_hyperclean(args, s)
        return 0
    except Refused as exc:
        prefix = "CHECK FAILED" if args.check else "ERROR"
        print(f"{prefix}: {exc}", file=sys.stderr, flush=True)
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
