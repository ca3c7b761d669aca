"""MLS-Bench optimization-bilevel scaffold: penalty-based bilevel GD (Shen & Chen, 2023).

EDITABLE: only the block between the "EDITABLE" and "END EDITABLE" marker
comments below (lines 216-253 as published): get_toy_strategy() and
get_hyperclean_strategy(net). They choose a supported method and its
hyperparameters by returning a ToyStrategy / HypercleanStrategy.

FIXED: everything else -- this file's dataclasses, validation and main, and
bilevel_common.py beside it (toy problem, initial points, stopping rule,
MNIST split and pollution, models, methods, metrics). Lines outside the block
must stay byte-identical to the scaffold.

The strategy classes, their defaults and their checks are the published
MLS-Bench driver's: a strategy that driver accepts is accepted here, and one
it refuses is refused, before any training (exit 2, the reason on stderr).
No value has an upper bound; a run that would strain this machine (RHG's
memory for K, a pace that projects past an hour) prints a WARNING with the
estimate and goes on.

Toy setting: 1000 initial points (seeded by --seed), x projected onto [0, 3],
projected gradient descent on f + gamma * penalty with step alpha0 / gamma,
at most 20,000 steps; a run succeeds when the projected-gradient norm drops
to 1e-5. As in the published driver, only gams[0] is ever run (a run stops at
its first converged stage) and a failed run is charged len(gams) * 20,000.
convergence_steps = mean steps over the 1000 runs (lower is better).

Hyper-cleaning setting: 5000 train / 5000 validation / 10000 test images from
MNIST's training set, 50% of the training labels polluted (official logic); a
weight sigmoid(x_i) per training sample; a linear model or a 784-300-10
sigmoid MLP. Reported: the best test_accuracy (higher is better; ties go to
the higher F1) and the cleaner's F1 / precision / recall at that evaluation.
RHG / T-RHG restart y from fresh initial parameters every outer step, run T
inner steps and keep the initial iterate and the last K; an evaluation reports
the best test accuracy over the kept iterates, as published.

Usage
  python custom_strategy.py --mode toy --seed 42 --profile paper
  python custom_strategy.py --mode hyperclean --net linear --seed 42 \
      --profile paper --data-root DATA
  python custom_strategy.py ... --check      # preflight, trains nothing

Profiles: paper (the published protocol), quick (MNIST, a tenth of
outer_itr and gamma_argmax_step), demo (generated MNIST-shaped data, a
1000/500/1000 split, one CPU thread; PBGD: 1/80 of outer_itr and
gamma_argmax_step; RHG: 1/20 of outer_itr and 1/5 of T and K). MNIST is read
through torchvision from <data-root>/MNIST/raw; --download lets it fetch it.

Exit status: 0 finished; 2 strategy refused; 3 data missing. With --check:
"CHECK OK ..." on stdout and exit 0, or "CHECK FAILED: ..." on stderr.
A "WARNING: ..." line on stdout informs and never stops a run.

Published baselines (the task's baselines/): toy gams=(10.0,), alpha0=0.1
  v_pbgd  linear lrx=0.1 lry=0.1 lr_inner=0.01 gamma_max=0.2 gamma_argmax_step=30000
          outer_itr=40000; mlp lry=0.01 gamma_max=0.1 gamma_argmax_step=10000 outer_itr=80000
  g_pbgd  linear lrx=0.3 lry=0.5 gamma_max=37 gamma_argmax_step=5000 outer_itr=40000;
          mlp lrx=0.5 gamma_argmax_step=30000 outer_itr=50000 (toy: g_pbgd)
  rhg     linear lr=0.001 lr_inner=0.1 outer_itr=100 T=500 K=500 eval_interval=1;
          mlp lr_inner=0.4
  t_rhg   as rhg with K=100 (MLS-Bench does not publish its truncation)

Output lines (the published driver's keys)
  toy:        TRAIN_METRICS run step objective residual projected_grad success
              FINAL_METRICS convergence_steps median_steps final_residual
                final_projected_grad success_rate runtime_sec score
  hyperclean: TRAIN_METRICS step train_loss val_loss test_accuracy f1_score
                cleaner_precision cleaner_recall <aux> iter_time
                (aux: penalty_gap for v_pbgd, grad_penalty for g_pbgd,
                inner_objective for rhg / t_rhg; every eval_interval steps
                for PBGD, every outer step for RHG)
              FINAL_METRICS test_accuracy f1_score cleaner_precision
                cleaner_recall best_step runtime_sec total_runtime_sec,
                best_accuracy_* and best_f1_* (test_accuracy, f1_score,
                cleaner_precision, cleaner_recall, step, runtime_sec), score
  both:       TRAIN_PLAN unit=run|step total=N (for the progress bar)
"""

from __future__ import annotations

import argparse
import numbers
import os
import sys
from dataclasses import asdict, dataclass, fields

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bilevel_common as bc  # noqa: E402

TOY_METHODS = ("v_pbgd", "g_pbgd")
PBGD_METHODS = ("v_pbgd", "g_pbgd")
RHG_METHODS = ("rhg", "t_rhg")
NETS = ("linear", "mlp")


class StrategyError(ValueError):
    """A strategy the driver refuses (unsupported method, value out of range)."""


def _check(s, name: str, low: float, strict: bool, integer: bool = False, why: str = "") -> None:
    """Refuse s.<name> unless it is a number (an integer where it counts steps)
    above low (strict) or at least low. Bounds as published: `value <= low`
    refuses, so a NaN passes as it did there."""
    value = getattr(s, name)
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer (a count of steps)" if integer else "a number"
        raise StrategyError(f"{name} must be {what}, got {value!r}")
    if value <= low if strict else value < low:
        bound = ("positive" if strict else "non-negative") if low == 0 else f"above {low}"
        raise StrategyError(f"{name} must be {bound}{why}, got {value!r}")


def _check_method(method, allowed, mode: str) -> None:
    if method not in allowed:
        raise StrategyError(f"{mode} method {method!r} is not supported; choose one of {', '.join(allowed)}")


@dataclass(frozen=True)
class ToyStrategy:
    """Toy mode. method: v_pbgd | g_pbgd. gams: penalty constants (a
    non-empty tuple of positive numbers; only gams[0] is run, see above).
    alpha0 > 0: the step size is alpha0 / gamma."""

    method: str
    gams: tuple
    alpha0: float

    def validate(self) -> None:
        _check_method(self.method, TOY_METHODS, "toy")
        if not isinstance(self.gams, (tuple, list)) or not self.gams:
            raise StrategyError(f"gams must be a non-empty tuple of positive numbers, got {self.gams!r}")
        for i, gam in enumerate(self.gams):
            if isinstance(gam, bool) or not isinstance(gam, numbers.Real) or gam <= 0:
                raise StrategyError(f"gams must be a non-empty tuple of positive numbers; "
                                    f"gams[{i}] is {gam!r}")
        _check(self, "alpha0", 0, strict=True)


@dataclass(frozen=True)
class HypercleanStrategy:
    """Hyper-cleaning mode, fields and defaults as published. Used per method:
    v_pbgd: lrx, lry, lr_inner, gamma_init, gamma_max, gamma_argmax_step,
            outer_itr, inner_itr, reg
    g_pbgd: lrx, lry, gamma_init, gamma_max, gamma_argmax_step, outer_itr, reg
    rhg, t_rhg: lr (the step on x), lr_inner, outer_itr, T, K (K <= T: back
            through the last K of T inner steps), reg
    eval_interval: outer steps between TRAIN_METRICS lines (PBGD; RHG
            reports every outer step)."""

    method: str
    lrx: float = 0.0
    lry: float = 0.0
    lr_inner: float = 0.0
    gamma_init: float = 0.0
    gamma_max: float = 0.0
    gamma_argmax_step: int = 1
    outer_itr: int = 0
    inner_itr: int = 1
    lr: float = 0.0
    T: int = 0
    K: int = 0
    reg: float = 0.0
    eval_interval: int = 10

    def validate(self) -> None:
        _check_method(self.method, PBGD_METHODS + RHG_METHODS, "hyperclean")
        _check(self, "eval_interval", 0, strict=True)
        _check(self, "reg", 0, strict=False)
        why = f" for {self.method}"
        if self.method in PBGD_METHODS:
            for name in ("lrx", "lry"):
                _check(self, name, 0, strict=True, why=why)
            _check(self, "outer_itr", 0, strict=True, integer=True, why=why)
            for name in ("gamma_init", "gamma_max"):
                _check(self, name, 0, strict=False, why=why)
            _check(self, "gamma_argmax_step", 0, strict=True, why=why)
            if self.method == "v_pbgd":
                _check(self, "lr_inner", 0, strict=True, why=why)
                _check(self, "inner_itr", 0, strict=True, integer=True, why=why)
        else:
            for name in ("lr", "lr_inner"):
                _check(self, name, 0, strict=True, why=why)
            for name in ("outer_itr", "T", "K"):
                _check(self, name, 0, strict=True, integer=True, why=why)
            if self.K > self.T:
                raise StrategyError(f"K={self.K!r} cannot be larger than T={self.T!r}")


def _scaled(value, factor: float) -> int:
    return max(1, int(round(value * factor)))


def schedule_for_profile(s: HypercleanStrategy, profile: str) -> bc.HypercleanConfig:
    """The strategy's schedule as the profile runs it (paper: unchanged)."""
    cfg = bc.HypercleanConfig(**asdict(s))
    if profile == "paper":
        return cfg
    rhg = s.method in RHG_METHODS
    outer = {"quick": 0.1, "demo": 0.05 if rhg else 0.0125}[profile]
    cfg.outer_itr = _scaled(s.outer_itr, outer)
    cfg.gamma_argmax_step = _scaled(s.gamma_argmax_step, outer)
    if rhg and profile == "demo":
        cfg.T = _scaled(s.T, 0.2)
        cfg.K = min(cfg.T, _scaled(s.K, 0.2))
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
    bc.emit(line)  # printed; a metrics line also goes to the engine's metrics channel


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
    except Exception as exc:  # the editable block raised
        raise Refused(f"{what} raised {type(exc).__name__}: {exc}")
    if not isinstance(s, want):
        raise Refused(f"{what} must return a {want.__name__}, got {type(s).__name__}")
    try:
        s.validate()
    except StrategyError as exc:
        raise Refused(f"invalid strategy from {what}: {exc}")
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

    def on_run(i: int, r: bc.ToyRun) -> None:
        emit(f"TRAIN_METRICS run={i} step={r.steps} objective={r.objective:.6f} residual={r.residual:.6f} "
             f"projected_grad={r.projected_grad:.6f} success={int(r.success)}")

    res = bc.run_toy(s.method, s.gams, s.alpha0, args.seed, on_run=on_run)
    emit("FINAL_METRICS " + " ".join(f"{k}={v:.6f}" for k, v in res.summary().items()))


# demo on the CPU: one thread per setting, as the vision drivers. Two settings
# share a 2-core machine side by side, and the result does not depend on the
# cores (threads change the order of float reductions). The hidden mlp
# setting (V-PBGD, 1000 outer steps) took 634 s on the default two threads of a
# busy 2-core machine, about 55 s on one.
DEMO_CPU_THREADS = 1


def pick_device(profile: str = "paper"):
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu" and profile == "demo":
        torch.set_num_threads(DEMO_CPU_THREADS)
    return device


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
    device = pick_device(args.profile)
    emit(f"hyperclean: net={args.net} profile={args.profile} seed={args.seed} device={device} "
         f"threads={torch.get_num_threads()} "
         f"strategy: {describe(s)}")
    emit("schedule run: " + " ".join(f"{f.name}={getattr(cfg, f.name)!r}" for f in fields(cfg)))
    warning = bc.memory_warning(cfg, args.net, device)
    if warning:
        emit(warning)
    emit(f"TRAIN_PLAN unit=step total={cfg.outer_itr}")
    rng = random.Random(args.seed)   # official: random.seed(seed); torch.manual_seed(seed)
    torch.manual_seed(args.seed)
    data = load_data(args, rng)
    emit(f"data: train={data.tr_x.shape[0]} val={data.val_x.shape[0]} test={data.test_x.shape[0]} "
         f"polluted={int((data.tr_clean == 0).sum())} "
         f"labels_changed={int((data.tr_dirty != data.tr_clean_labels).sum())}")
    data.to(device)
    rec = bc.run_hyperclean(cfg, args.net, data, device, emit)
    emit(rec.final_line())


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
                             torch.randint(0, 10, (32,), generator=g), (torch.arange(32) % 2).float(),
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
