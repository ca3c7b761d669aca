"""DL Residual Block Benchmark.

Train CIFAR ResNets of depth 20, 56 and 110 on CIFAR-10/100 to evaluate
custom residual blocks.

FIXED: Backbone (stem, stages, pooling, head), data pipeline, training loop.
EDITABLE: CustomBlock class.

The backbone stacks CustomBlock(in_planes, planes, stride) in three stages
of 16, 32 and 64 planes (3, 9 or 18 blocks each; the first block of stages
2 and 3 has stride 2) and feeds 64 * CustomBlock.expansion channels to the
classifier. Usage:

    python custom_residual.py --arch resnet56 --dataset cifar100 --seed 42
    python custom_residual.py ... --check      # preflight, prints CHECK OK
"""

import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)
vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."
# ============================================================================
# Residual block (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 31-61) --------------------------------------
class CustomBlock(nn.Module):
    """The residual block of every stage: x [B, in_planes, H, W] ->
    [B, planes * expansion, H / stride, W / stride]. The shortcut has to
    handle stride 2 and a change of channel count. BN, ReLU, F, nn and vc
    (vision_common: vc.OptionAShortcut) are at hand; the backbone's init
    sets Conv2d weights Kaiming-normal and BatchNorm2d to (1, 0).

    Default: the basic block of He et al. (2016): conv3x3-BN-ReLU-
    conv3x3-BN, plus an option-A shortcut (subsample, zero-pad channels),
    then ReLU.

    Blocks per stage: 3 (ResNet-20, CIFAR-10), 9 (ResNet-56, CIFAR-100),
    18 (ResNet-110, CIFAR-100; hidden).
    """

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes * self.expansion:
            self.shortcut = vc.OptionAShortcut(in_planes, planes * self.expansion)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
# -- EDITABLE REGION END (lines 31-61) ----------------------------------------

# ============================================================================
# FIXED from here on: backbone, data pipeline, training loop
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

ARCHS = ("resnet20", "resnet56", "resnet110")
DATASETS = ("cifar10", "cifar100")


def build_network(args):
    info = vc.DATASETS[args.dataset]
    return vc.BlockResNet(vc.RESNET_DEPTHS[args.arch], info.num_classes, CustomBlock,
                          info.channels)


def check(args):
    """--check: CustomBlock has an int expansion and the right output shape
    with and without stride 2, and one training step of the network runs."""
    def probe(device):
        expansion = getattr(CustomBlock, "expansion", None)
        if not isinstance(expansion, int) or expansion < 1:
            raise vc.CheckFailed(f"CustomBlock.expansion must be a positive int "
                                 f"class attribute, got {expansion!r}")
        for in_planes, planes, stride in ((16, 16, 1), (16 * expansion, 32, 2)):
            block = CustomBlock(in_planes, planes, stride).to(device)
            out = block(torch.randn(2, in_planes, 8, 8, device=device))
            want = (2, planes * expansion, 8 // stride, 8 // stride)
            vc.require_shape(out, want, f"CustomBlock({in_planes}, {planes}, stride={stride}) "
                             f"must give {want} for a [2, {in_planes}, 8, 8] input")
        model = build_network(args).to(device)
        x, y = vc.probe_batch(args.dataset, device)
        _, warn = vc.probe_steps(model, x, y, args.profile)
        return (f"CustomBlock (expansion {expansion}) keeps the shapes; one training step "
                f"of {vc.count_params(model):,} parameters on a batch of 4{warn}")
    vc.run_check(args, __file__, "CustomBlock", probe)


def prepare(args, data, device):
    return {"model": build_network(args).to(device), "epoch_fn": vc.plain_epoch}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


if __name__ == "__main__":
    main()
