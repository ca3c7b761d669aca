"""CV Data Augmentation Benchmark.

Train vision models (ResNet-20, ResNet-56, MobileNetV2) on CIFAR-10/100 and
FashionMNIST to evaluate custom training augmentation pipelines.

FIXED: Model architectures (Kaiming-normal init), data, training loop.
EDITABLE: build_train_transform function.

Usage:
    python custom_augment.py --arch resnet20 --dataset cifar10 --seed 42
    python custom_augment.py --arch mobilenetv2 --dataset fmnist --profile demo
    python custom_augment.py ... --check      # preflight, prints CHECK OK

Protocol (vision_common.protocol): paper = 200 epochs, SGD lr 0.1, momentum
0.9, wd 5e-4, per-epoch cosine to 0, batch 128, fp32; quick = the same on 30
epochs; demo = generated data shaped like the dataset, CPU-sized, batch 32.

Training images go one by one, as PIL images (RGB; mode "L" for
FashionMNIST, zero-padded to 32x32), through the pipeline that
build_train_transform(config) returns, in a DataLoader with shuffling (on
worker processes when a GPU trains). Test images get ToTensor + Normalize
only.

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
and "FINAL_METRICS best_test_acc=.. best_epoch=.." last.
"""

import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as transforms
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)

vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."

ARCHS = ("resnet20", "resnet56", "mobilenetv2")
DATASETS = ("cifar10", "cifar100", "fmnist")


# ============================================================================
# The training pipeline (FIXED)
# ============================================================================

def transform_config(data):
    return {"img_size": vc.IMAGE_SIZE, "mean": tuple(data.mean), "std": tuple(data.std),
            "dataset": data.info.name}


def checked_transform(data):
    """build_train_transform's pipeline, or CheckFailed saying what is wrong:
    it must hold ToTensor and Normalize and turn an image of the data into a
    float tensor [C, 32, 32]."""
    pipeline = build_train_transform(transform_config(data))
    steps = getattr(pipeline, "transforms", [pipeline])
    for needed in (transforms.ToTensor, transforms.Normalize):
        if not any(isinstance(t, needed) for t in steps):
            raise vc.CheckFailed(f"build_train_transform must return a "
                                 f"transforms.Compose holding transforms.{needed.__name__}"
                                 f"(); found {[type(t).__name__ for t in steps]}")
    images = vc.PILImages(data.train)
    out = pipeline(images.image(0))
    want = (data.info.channels, vc.IMAGE_SIZE, vc.IMAGE_SIZE)
    what = f"the training pipeline must turn an image into a float tensor {want}"
    vc.require_shape(out, want, what)
    if not out.is_floating_point():
        raise vc.CheckFailed(f"{what}; got {out.dtype}")
    return pipeline


def train_loader(data, args, device):
    proto = vc.protocol(args.profile, args.epochs)
    workers = 0 if device.type == "cpu" else min(8, max(1, (os.cpu_count() or 2) - 1))
    return vc.TransformLoader(data.train, proto.batch_size, checked_transform(data),
                              device, args.seed, workers)


def check(args):
    """--check: the pipeline holds ToTensor and Normalize, maps an image of
    the data to [C, 32, 32], and one training step runs on a batch of it."""
    def probe(device):
        args.train_size, args.test_size = 8, 8
        data = vc.load_family_data(args)
        x, y, _ = next(iter(train_loader(data, args, device)))
        vc.probe_steps(vc.family_network(args).to(device), x, y, args.profile)
        return (f"build_train_transform gives {tuple(x.shape[1:])} images; one "
                f"training step on {x.shape[0]} of them")
    vc.run_check(args, __file__, "build_train_transform", probe)


def prepare(args, data, device):
    loader = train_loader(data, args, device)
    return {"model": vc.family_network(args).to(device), "epoch_fn": vc.plain_epoch,
            "train_loader": loader}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


# (Blank lines below keep the editable region at its published line
#  numbers, so line numbers in published agent transcripts match.)







































































































































# ============================================================================
# Training augmentation (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 246-275) ------------------------------------
def build_train_transform(config):
    """The per-image training pipeline.

    config: {"img_size": 32, "mean": tuple, "std": tuple (per channel:
             3 for CIFAR, 1 for FashionMNIST),
             "dataset": "cifar10" | "cifar100" | "fmnist"}.
    Returns a transforms.Compose that takes one PIL image (RGB, or mode
    "L" for FashionMNIST) and returns a float tensor [C, 32, 32]; it
    must contain transforms.ToTensor() and
    transforms.Normalize(config["mean"], config["std"]). Called once;
    the pipeline then runs on every training image of every epoch.
    PIL-only transforms go before ToTensor, tensor ones (e.g.
    RandomErasing) after it. Custom transform classes must be defined
    inside this function. Batch-mixing methods (MixUp, CutMix) cannot
    work: the training loop is fixed. torchvision.transforms is
    imported as transforms.

    Settings: ResNet-20 / CIFAR-10, ResNet-56 / CIFAR-100, MobileNetV2 /
    FashionMNIST (hidden); a policy may branch on config["dataset"].

    Default: the standard CIFAR pipeline, RandomCrop(32, padding=4) +
    RandomHorizontalFlip.
    """
    size = config["img_size"]
    return transforms.Compose([
        transforms.RandomCrop(size, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(config["mean"], config["std"]),
    ])
# -- EDITABLE REGION END (lines 246-275) --------------------------------------

if __name__ == "__main__":
    main()
