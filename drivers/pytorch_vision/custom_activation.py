"""CV Activation Function Benchmark.

Train vision models (ResNet, VGG, MobileNetV2) on CIFAR-10/100/FashionMNIST
to evaluate custom activation functions.

FIXED: Model architectures, data pipeline, training loop.
EDITABLE: CustomActivation class.

Usage:
    python custom_activation.py --arch resnet20 --dataset cifar10 --seed 42
    python custom_activation.py --arch mobilenetv2 --dataset fmnist --seed 42
"""

import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms
import vision_common as vc  # FIXED helpers beside this file (data, models, loop)
vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."
# ============================================================================
# Custom Activation Function (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 32-49) --------------------------------------
class CustomActivation(nn.Module):
    """Custom activation function: the drop-in replacement for ReLU.

    Used everywhere the networks would apply ReLU: twice per ResNet
    BasicBlock and after the stem convolution, after every VGG Conv-BN pair
    and in its classifier head, and at every ReLU6 of MobileNetV2.
    A fresh instance is created at each of these sites, so parameters
    registered in __init__ are learned per site (and get weight decay).
    forward(x) must return a tensor of x's shape.

    Default: ReLU, max(0, x).
    """

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.relu(x)
# -- EDITABLE REGION END (lines 32-49) ----------------------------------------

# ============================================================================
# FIXED from here on: networks, data pipeline, training loop
# ============================================================================
#
# More usage (every option: python custom_activation.py --help):
#     python custom_activation.py --arch vgg16bn --dataset cifar100 --seed 42 \
#         --profile paper --data-root DIR
#     python custom_activation.py --arch resnet20 --dataset cifar10 --profile demo
#     python custom_activation.py ... --check      # preflight, prints CHECK OK
#
# Profiles: paper = the published protocol (200 epochs, SGD lr 0.1, momentum
# 0.9, wd 5e-4, per-epoch cosine to 0, batch 128, RandomCrop(32, padding=4) +
# RandomHorizontalFlip, fp32, best test accuracy over the epochs); quick = the
# same on 30 epochs; demo = generated data shaped like the dataset, CPU-sized,
# batch 32 (see vision_common.protocol and vision_common.demo_data).
#
# Output: "TRAIN_PLAN unit=epoch total=N" first, one
#     TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
# per epoch (lr after the epoch's scheduler step; a NaN loss prints as nan and
# training goes on), and "FINAL_METRICS best_test_acc=.. best_epoch=.." last.

ARCH_DATASETS = {"resnet20": "cifar10", "resnet56": "cifar10",
                 "vgg16bn": "cifar100", "mobilenetv2": "fmnist"}


def build_network(arch, dataset):
    """The architecture with CustomActivation at every activation site."""
    info = vc.DATASETS[dataset]
    return vc.build_model(arch, info.num_classes, act=CustomActivation,
                          in_channels=info.channels)


def check(args):
    """--check: data present, CustomActivation builds and the network with it
    survives one forward/backward/step on a tiny batch."""
    try:
        data_note = vc.data_check(args)
    except vc.CheckFailed as e:
        vc.fail_check(str(e))
    device = vc.pick_device(args.device, args.profile)
    info = vc.DATASETS[args.dataset]
    try:
        act = CustomActivation().to(device)
        probe = torch.randn(2, 8, 4, 4, device=device)
        out = act(probe)
        if not torch.is_tensor(out) or out.shape != probe.shape:
            shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
            raise vc.CheckFailed(f"CustomActivation must return a tensor of its input's "
                                 f"shape: got {shape} for input {tuple(probe.shape)}")
        vc.seed_everything(args.seed)
        model = build_network(args.arch, args.dataset).to(device)
        proto = vc.protocol(args.profile, args.epochs)
        optimizer, _ = vc.make_optimizer(model.parameters(), proto)
        x = torch.randn(4, info.channels, vc.IMAGE_SIZE, vc.IMAGE_SIZE, device=device)
        y = torch.arange(4, device=device) % info.num_classes
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    except vc.CheckFailed as e:
        vc.fail_check(str(e))
    except Exception as e:
        vc.fail_check(vc.editable_error(e, __file__, "CustomActivation"))
    warn = "" if math.isfinite(loss.item()) else " (warning: the loss is not finite)"
    print(f"CHECK OK: {args.arch}/{args.dataset} profile={args.profile}: {data_note}; "
          f"CustomActivation builds, {vc.count_params(model):,} parameters, one "
          f"forward/backward on a batch of 4 on {device} (loss {loss.item():.4f}){warn}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=vc.ARCHS, default="resnet20")
    parser.add_argument("--dataset", choices=sorted(vc.DATASETS), default=None,
                        help="default: the arch's published dataset")
    args = vc.add_common_args(parser).parse_args()
    args.dataset = args.dataset or ARCH_DATASETS[args.arch]
    return args


def main():
    args = parse_args()
    if args.check:
        return check(args)
    device, data = vc.start_run(args)
    model = vc.fit_to_profile(build_network(args.arch, args.dataset), args.profile).to(device)
    vc.run_training(os.path.basename(__file__), args, data, model, device, epoch_fn=vc.plain_epoch)


if __name__ == "__main__":
    main()
