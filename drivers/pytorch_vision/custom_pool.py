"""CV Global Pooling Benchmark.

Train vision models (ResNet-56, VGG-16-BN, MobileNetV2) on CIFAR-100 and
FashionMNIST to evaluate custom global pooling (feature aggregation) layers.

FIXED: Model architectures, data pipeline, training loop.
EDITABLE: CustomPool class.

The pooled features go to each network's own classifier (a linear head; for
VGG-16-BN its 512-512-512 MLP first), as global average pooling's did.

Usage:
    python custom_pool.py --arch resnet56 --dataset cifar100 --seed 42
    python custom_pool.py --arch mobilenetv2 --dataset fmnist --profile demo
    python custom_pool.py ... --check      # preflight, prints CHECK OK
"""

import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)
vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."
# ============================================================================
# Global pooling (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 31-48) --------------------------------------
class CustomPool(nn.Module):
    """Global pooling: [B, C, H, W] final feature map -> [B, C] features.

    Sits between the backbone and the classifier head, where global
    average pooling was: ResNet-56 (C=64, 8x8), VGG-16-BN (C=512, 1x1)
    and MobileNetV2 (C=1280, 4x4; hidden). Built with no arguments, one
    instance per network; parameters registered here are trained with
    the network (SGD, weight decay). Must keep C and accept any H, W.
    It sees features only, never labels.

    Default: global average pooling.
    """

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return x.mean(dim=(2, 3))
# -- EDITABLE REGION END (lines 31-48) ----------------------------------------

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

ARCHS = ("resnet56", "vgg16bn", "mobilenetv2")
DATASETS = ("cifar100", "fmnist")


def build_network(args):
    """The setting's network with CustomPool in place of its global pooling."""
    return vc.PooledNet(vc.family_network(args), CustomPool())


def check(args):
    """--check: CustomPool maps [B, C, H, W] to [B, C] (8x8 and 1x1 maps),
    and one training step of the network with it runs on a tiny batch."""
    def probe(device):
        pool = CustomPool().to(device)
        for size in (8, 1):
            probe_map = torch.randn(2, 16, size, size, device=device)
            vc.require_shape(pool(probe_map), (2, 16), f"CustomPool must map [B, C, H, W] to "
                             f"[B, C]: for input {tuple(probe_map.shape)}")
        model = build_network(args).to(device)
        x, y = vc.probe_batch(args.dataset, device)
        _, warn = vc.probe_steps(model, x, y, args.profile)
        return (f"CustomPool maps 8x8 and 1x1 maps to [B, C] "
                f"({vc.count_params(model.pool)} parameters); one training step of "
                f"{vc.count_params(model):,} parameters on a batch of 4{warn}")
    vc.run_check(args, __file__, "CustomPool", probe)


def prepare(args, data, device):
    model = build_network(args).to(device)
    return {"model": model, "epoch_fn": vc.plain_epoch,
            "extra": f" ({vc.count_params(model.pool)} in CustomPool)"}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


if __name__ == "__main__":
    main()
