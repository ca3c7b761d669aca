"""DL Learning Rate Schedule Benchmark.

Train vision models (ResNet-20, ResNet-56, MobileNetV2) on CIFAR-10/100 and
FashionMNIST to evaluate custom learning-rate schedules.

FIXED: Model architectures (Kaiming-normal init), data pipeline, training loop.
EDITABLE: get_lr function.

Usage:
    python custom_schedule.py --arch resnet20 --dataset cifar10 --seed 42
    python custom_schedule.py --arch mobilenetv2 --dataset fmnist --profile demo
    python custom_schedule.py ... --check      # preflight, prints CHECK OK

Protocol (vision_common.protocol): paper = 200 epochs, SGD base lr 0.1,
momentum 0.9, wd 5e-4, batch 128, RandomCrop(32, padding=4) +
RandomHorizontalFlip, fp32; quick = the same on 30 epochs; demo = generated
data shaped like the dataset, CPU-sized, batch 32 and base lr 0.025. No
scheduler of its own: before each epoch the loop sets the lr of every
parameter group to get_lr(epoch, total_epochs, base_lr, config), epoch
counted from 0, and keeps it for the whole epoch.

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
(lr: the one get_lr gave for that epoch) and "FINAL_METRICS best_test_acc=..
best_epoch=.." last.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)

vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."

ARCHS = ("resnet20", "resnet56", "mobilenetv2")
DATASETS = ("cifar10", "cifar100", "fmnist")


# ============================================================================
# The lr of each epoch (FIXED)
# ============================================================================

def epoch_lr(epoch, total_epochs, base_lr, config):
    """get_lr's value as a float, or CheckFailed naming what is wrong."""
    lr = get_lr(epoch, total_epochs, base_lr, dict(config))
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise vc.CheckFailed(f"get_lr must return a number, got {type(lr).__name__}") from None
    if not math.isfinite(lr) or lr < 0:
        raise vc.CheckFailed(f"get_lr({epoch}, {total_epochs}, {base_lr}, ...) returned "
                             f"{lr}; a learning rate must be finite and >= 0")
    return lr


def make_lr_setter(total_epochs, base_lr, config):
    def set_lr(epoch, optimizer):
        lr = epoch_lr(epoch, total_epochs, base_lr, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
    return set_lr


def schedule_config(args):
    return {"arch": args.arch, "dataset": args.dataset}


def check(args):
    """--check: get_lr gives a finite lr >= 0 for every epoch of the
    schedule, and one training step at its first lr runs on a tiny batch."""
    def probe(device):
        proto = vc.protocol(args.profile, args.epochs)
        lrs = [epoch_lr(e, proto.epochs, proto.lr, schedule_config(args))
               for e in range(proto.epochs)]
        model = vc.family_network(args).to(device)
        optimizer, _ = vc.make_optimizer(model.parameters(), proto)
        make_lr_setter(proto.epochs, proto.lr, schedule_config(args))(0, optimizer)
        x, y = vc.probe_batch(args.dataset, device)
        vc.probe_steps(model, x, y, args.profile, optimizer=optimizer)
        return (f"get_lr gives {len(lrs)} epochs from {lrs[0]:.6g} to {lrs[-1]:.6g} "
                f"(max {max(lrs):.6g}); one training step on a batch of 4")
    vc.run_check(args, __file__, "get_lr", probe)


def prepare(args, data, device):
    proto = vc.protocol(args.profile, args.epochs)
    return {"model": vc.family_network(args).to(device), "epoch_fn": vc.plain_epoch,
            "set_lr": make_lr_setter(proto.epochs, proto.lr, schedule_config(args))}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


# (Blank lines below keep the editable region at its published line
#  numbers, so line numbers in published agent transcripts match.)














































































































































# ============================================================================
# Learning-rate schedule (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 246-269) ------------------------------------
def get_lr(epoch, total_epochs, base_lr, config):
    """The learning rate of one epoch.

    epoch:        the epoch about to run, counted from 0;
    total_epochs: the schedule's length (200 on paper, 30 quick, 4 demo);
    base_lr:      the protocol's lr (0.1; 0.025 on demo);
    config:       {"arch": "resnet20" | "resnet56" | "mobilenetv2",
                   "dataset": "cifar10" | "cifar100" | "fmnist"}.
    Returns a number >= 0. Called once before each epoch; the lr stays
    for the whole epoch (no other scheduler runs). SGD momentum 0.9 and
    weight decay 5e-4 are fixed; the weight init is Kaiming normal.
    The schedule may branch on the arch and the dataset; math is
    imported.

    Default: step decay (He et al., 2016): lr / 10 at 50% and again at
    75% of the epochs (epochs 100 and 150 of 200).
    """
    lr = base_lr

    if epoch >= int(0.5 * total_epochs):
        lr *= 0.1
    if epoch >= int(0.75 * total_epochs):
        lr *= 0.1
    return lr
# -- EDITABLE REGION END (lines 246-269) --------------------------------------

if __name__ == "__main__":
    main()
