"""DL Normalization Benchmark.

Train vision models (ResNet-56, ResNet-110, MobileNetV2) on CIFAR-100 and
FashionMNIST to evaluate custom normalization layers.

FIXED: Model architectures, data pipeline, training loop.
EDITABLE: CustomNorm class.

Every nn.BatchNorm2d of the networks is replaced by CustomNorm(C) after they
are built; the rest of each network (and its initialisation) is unchanged.

Usage:
    python custom_norm.py --arch resnet56 --dataset cifar100 --seed 42
    python custom_norm.py --arch mobilenetv2 --dataset fmnist --profile demo
    python custom_norm.py ... --check      # preflight, prints CHECK OK
"""

import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)
vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."
# ============================================================================
# Normalization layer (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 31-45) --------------------------------------
class CustomNorm(nn.Module):
    """Normalization layer: a drop-in substitute for nn.BatchNorm2d.

    CustomNorm(num_features) replaces every BatchNorm2d of the network
    (after each convolution; the option-A shortcuts of the ResNets have
    none); forward(x) maps [B, C, H, W] to the same shape. model.train()
    and model.eval() switch its mode. Default: BatchNorm2d.
    """

    def __init__(self, num_features):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features)

    def forward(self, x):
        return self.bn(x)
# -- EDITABLE REGION END (lines 31-45) ----------------------------------------

# ============================================================================
# FIXED from here on: networks, data pipeline, training loop
# ============================================================================
#
# Protocol (vision_common.protocol): paper = 200 epochs, SGD lr 0.1, momentum
# 0.9, wd 5e-4, per-epoch cosine to 0, batch 128, RandomCrop(32, padding=4) +
# RandomHorizontalFlip, fp32; quick = the same on 30 epochs; demo = generated
# data shaped like the dataset, CPU-sized, batch 32.
#
# Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
#     TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
# and "FINAL_METRICS best_test_acc=.. best_epoch=.." last.

ARCHS = ("resnet56", "mobilenetv2", "resnet110")
DATASETS = ("cifar100", "fmnist")


def build_network(args):
    """The setting's network with CustomNorm(C) wherever it had BatchNorm2d(C)."""
    net = vc.family_network(args)
    vc.replace_modules(net, nn.BatchNorm2d, lambda bn: CustomNorm(bn.num_features))
    return net


def check(args):
    """--check: CustomNorm keeps the shape in training and evaluation mode,
    and one training step of the network with it runs on a tiny batch."""
    def probe(device):
        norm = CustomNorm(16).to(device)
        for mode in (True, False):
            norm.train(mode)
            probe_map = torch.randn(4, 16, 8, 8, device=device)
            vc.require_shape(norm(probe_map), probe_map.shape,
                             f"CustomNorm must keep its input's shape {tuple(probe_map.shape)}")
        model = build_network(args).to(device)
        x, y = vc.probe_batch(args.dataset, device)
        _, warn = vc.probe_steps(model, x, y, args.profile)
        model.eval()
        model(x)
        n = sum(isinstance(m, CustomNorm) for m in model.modules())
        return (f"CustomNorm keeps shapes; {n} of them in the network "
                f"({vc.count_params(model):,} parameters); one training step and an "
                f"evaluation forward on a batch of 4{warn}")
    vc.run_check(args, __file__, "CustomNorm", probe)


def prepare(args, data, device):
    return {"model": build_network(args).to(device), "epoch_fn": vc.plain_epoch}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


if __name__ == "__main__":
    main()
