"""FIXED helpers of the ten family scaffolds (custom_loss.py, custom_schedule.py,
custom_reg.py, custom_init.py, custom_pool.py, custom_norm.py, custom_augment.py,
custom_residual.py, custom_weighting.py, custom_compressor.py): more networks,
long-tailed CIFAR, a simulated data-parallel step with gradient compression, and
one training loop for editable functions and modules.

It is copied beside vision_common.py into a session workspace and builds on it;
the scaffolds import it as ``import vision_family as vc``, which also gives them
everything of vision_common, so each scaffold reads one module. Nothing in it is
editable.
"""

import argparse
import math
import os
import time
from typing import Callable, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from vision_common import *  # noqa: F401,F403  (the scaffolds reach vision_common through this module)
from vision_common import (
    DATASETS, DEMO_SIZES, IMAGE_SIZE, ActFactory, BestTracker, CheckFailed, CifarResNet, Classes, Data,
    DataMissing, MobileNetV2, Split, Timer, VGG16BN, add_common_args, build_model, channels_last_for,
    data_check, demo_data, editable_error, evaluate, fail_check, fit_to_profile, init_weights, load_real, make_loaders,
    make_optimizer, pick_device, print_done, print_header, print_metrics, protocol, seed_everything,
)

# ============================================================================
# Family: networks
# ============================================================================

VGG11_CFG = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


class VGG11BN(VGG16BN):
    """VGG-11 with BatchNorm, CIFAR variant: 8 conv-BN-act layers, 5
    max-pools (32 -> 1) and VGG-16-BN's classifier 512-512-512 (9.8M
    parameters with 100 classes, as published); same initialisation."""

    def __init__(self, num_classes: Classes, act: ActFactory = nn.ReLU,
                 in_channels: int = 3):
        super().__init__(num_classes, act, in_channels)
        layers, c = [], in_channels
        for v in VGG11_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                conv = nn.Conv2d(c, v, 3, padding=1)
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.BatchNorm2d(v), act()]
                c = v
        self.features = nn.Sequential(*layers)


class BlockResNet(nn.Module):
    """CIFAR ResNet built from a given block class: stem conv 3->16 + BN +
    ReLU, three stages of ``n`` blocks at 16/32/64 planes (strides 1, 2, 2),
    global average pooling, linear head on 64 * block.expansion features.

    ``block(in_planes, planes, stride)`` must output ``planes *
    block.expansion`` channels; the next block gets that many in. Conv
    weights start Kaiming-normal (fan_out), BN at weight 1, bias 0, as
    CifarResNet."""

    def __init__(self, depth: int, num_classes: int, block, in_channels: int = 3):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError("depth must be 6n+2")
        n = (depth - 2) // 6
        expansion = int(getattr(block, "expansion", 1))
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(block(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes * expansion
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(64 * expansion, num_classes)
        init_weights(self)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.head(torch.flatten(self.pool(x), 1))


RESNET_DEPTHS = {"resnet20": 20, "resnet32": 32, "resnet56": 56, "resnet110": 110}
FAMILY_ARCHS = ("resnet20", "resnet32", "resnet56", "resnet110", "vgg11bn",
                "vgg16bn", "mobilenetv2")
ARCH_TITLES = {"resnet20": "ResNet-20", "resnet32": "ResNet-32", "resnet56": "ResNet-56",
               "resnet110": "ResNet-110", "vgg11bn": "VGG-11-BN", "vgg16bn": "VGG-16-BN",
               "mobilenetv2": "MobileNetV2"}


def build_family_model(arch: str, num_classes: int, in_channels: int = 3,
                       act: ActFactory = nn.ReLU) -> nn.Module:
    """Any network of the family: the CIFAR ResNets of depth 20/32/56/110,
    VGG-11-BN, VGG-16-BN, MobileNetV2 (ReLU6 as published when ``act`` is
    left at ReLU)."""
    if arch in RESNET_DEPTHS:
        return CifarResNet(RESNET_DEPTHS[arch], num_classes, act, in_channels)
    if arch == "vgg11bn":
        return VGG11BN(num_classes, act, in_channels)
    if arch == "mobilenetv2" and act is nn.ReLU:
        act = nn.ReLU6
    if arch in ("vgg16bn", "mobilenetv2"):
        return build_model(arch, num_classes, act, in_channels)
    raise ValueError(f"unknown arch {arch!r}; choose from {', '.join(FAMILY_ARCHS)}")


def replace_modules(model: nn.Module, kind: type, make: Callable) -> int:
    """Swap every submodule of type ``kind`` for ``make(old)``, in place;
    returns how many were swapped."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is kind:
                setattr(parent, name, make(child))
                swapped += 1
    return swapped


class PooledNet(nn.Module):
    """A family network with its global pooling replaced by ``pool``
    ([B, C, H, W] -> [B, C]): ResNets pool their 8x8 final map (C = 64),
    VGG its 1x1 map after the last max-pool (C = 512), MobileNetV2 its 4x4
    map (C = 1280); the rest of each network is unchanged."""

    def __init__(self, net: nn.Module, pool: nn.Module):
        super().__init__()
        self.net, self.pool = net, pool

    def features(self, x):
        n = self.net
        if isinstance(n, CifarResNet):
            return n.layers(n.act(n.bn1(n.conv1(x))))
        return n.features(x)

    def forward(self, x):
        n = self.net
        z = self.pool(self.features(x))
        if isinstance(n, VGG16BN):
            return n.head(n.classifier(z))
        if isinstance(n, MobileNetV2):
            return n.head(n.dropout(z))
        return n.head(z)


# ============================================================================
# Family: data (demo sizes of the new networks, long-tailed CIFAR)
# ============================================================================

# demo images (train, test) of the networks DEMO_SIZES does not list, scaled
# by their cost per image relative to ResNet-20 (ResNet-32 ~1.6x, ResNet-110
# ~5.6x, VGG-11-BN ~0.5x of VGG-16-BN).
EXTRA_DEMO_SIZES = {"resnet32": (1536, 300), "resnet110": (512, 200),
                    "vgg11bn": (1024, 300)}


def family_demo_sizes(arch: str) -> tuple:
    return DEMO_SIZES[arch] if arch in DEMO_SIZES else EXTRA_DEMO_SIZES[arch]


def long_tail_counts(n_max: int, num_classes: int, ratio: float) -> list:
    """Training images kept per class: class i keeps int(n_max *
    ratio^(-i / (C - 1))) (the usual exponential profile, Cao et al. 2019),
    at least one."""
    return [max(1, int(n_max * ratio ** (-i / (num_classes - 1))))
            for i in range(num_classes)]


def long_tail(split: Split, num_classes: int, ratio: float, n_max: int) -> Split:
    """The long-tailed training split: the first counts[c] images of class c
    in the split's order (as the files store them), in that order."""
    counts = long_tail_counts(n_max, num_classes, ratio)
    keep = torch.zeros(len(split), dtype=torch.bool)
    for c, k in enumerate(counts):
        keep[torch.nonzero(split.labels == c).flatten()[:k]] = True
    return Split(split.images[keep], split.labels[keep],
                 None if split.coarse is None else split.coarse[keep])


# per-class training images before the long tail: real CIFAR has 5000
# (CIFAR-10) and 500 (CIFAR-100); the demo a tenth of that.
LT_N_MAX = {("cifar10", False): 5000, ("cifar100", False): 500,
            ("cifar10", True): 500, ("cifar100", True): 50}


def load_family_data(args, imbalance_ratio: Optional[float] = None) -> Data:
    """The data of a family run (raises DataMissing): like load_data, with
    the new networks' demo sizes and, given ``imbalance_ratio``, the
    long-tailed training set (test set kept balanced). The demo's long tail
    starts from LT_N_MAX balanced generated images per class and keeps the
    real profile's shape; --train-size then lowers n_max until the long
    tail fits (every class keeps at least one image) instead of cutting
    the tail off."""
    demo = args.profile == "demo"
    n_train, n_test = family_demo_sizes(args.arch)
    info = DATASETS[args.dataset]
    if imbalance_ratio:
        n_max = LT_N_MAX[(args.dataset, demo)]
        if args.train_size:
            fits = [n for n in range(1, n_max + 1) if sum(
                long_tail_counts(n, info.num_classes, imbalance_ratio)) <= args.train_size]
            n_max = max(fits, default=1)
        n_train = n_max * info.num_classes
    if demo:
        data = demo_data(args.dataset, n_train, args.test_size or n_test)
    else:
        data = load_real(args.dataset, args.data_root, download=args.download)
        data.test = data.test.head(args.test_size)
    if imbalance_ratio:
        data.train = long_tail(data.train, info.num_classes, imbalance_ratio, n_max)
        data.source += f", long-tailed (imbalance ratio {imbalance_ratio:g}, n_max {n_max})"
    else:
        data.train = data.train.head(args.train_size)
    return data


def class_counts(split: Split, num_classes: int) -> list:
    return torch.bincount(split.labels, minlength=num_classes).tolist()


# ============================================================================
# Family: simulated data-parallel step with gradient compression
# ============================================================================

def compressed_data_parallel_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                                  optimizer, compressors: list,
                                  on_sent: Callable = None):
    """One SGD step of K-worker data-parallel training, simulated in one
    process. The batch is split into K = len(compressors) shards
    (torch.chunk; fewer when the batch is smaller than K); worker k runs
    forward/backward on its shard, and each parameter's gradient goes
    through worker k's compressor (compress -> what would be sent,
    decompress -> what the others rebuild; ``on_sent(sent, grad)`` sees
    each message). The rebuilt gradients are averaged (the all-reduce) and
    the optimizer steps on the average (momentum and weight decay after
    it, as DistributedDataParallel does). Each worker owns its compressor,
    so error-feedback state is per worker. Returns (mean loss, logits of
    the whole batch)."""
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    total = {n: torch.zeros_like(p) for n, p in params}
    shards = list(zip(torch.chunk(x, len(compressors)), torch.chunk(y, len(compressors))))
    losses, outs = [], []
    for compressor, (xs, ys) in zip(compressors, shards):
        model.zero_grad(set_to_none=True)
        out = model(xs)
        loss = F.cross_entropy(out, ys)
        loss.backward()
        for name, p in params:
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            sent, ctx = compressor.compress(grad, name)
            rebuilt = compressor.decompress(sent, ctx)
            if not torch.is_tensor(rebuilt) or tuple(rebuilt.shape) != tuple(grad.shape):
                raise ValueError(f"Compressor.decompress must rebuild {name}'s gradient "
                                 f"of shape {tuple(grad.shape)}; got {shape_of(rebuilt)}")
            total[name] += rebuilt.to(grad.dtype)
            if on_sent is not None:
                on_sent(sent, grad)
        losses.append(loss.detach() * ys.numel())
        outs.append(out.detach())
    for name, p in params:
        p.grad = total[name] / len(shards)
    optimizer.step()
    return torch.stack(losses).sum() / y.numel(), torch.cat(outs)


# ============================================================================
# Family: command line, one training run, --check
# ============================================================================

def family_args(doc: str, archs: Sequence[str], datasets: Sequence[str],
                extra: Callable = None):
    """Parse a family scaffold's command line: --arch, --dataset and the
    common options (and whatever ``extra(parser)`` adds)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--arch", choices=archs, default=archs[0])
    parser.add_argument("--dataset", choices=datasets, default=datasets[0])
    if extra is not None:
        extra(parser)
    return add_common_args(parser).parse_args()


def loss_config(num_classes: int, epoch: int, total_epochs: int) -> dict:
    """What an editable loss of the family is told each step (epoch 0-indexed)."""
    return {"num_classes": num_classes, "epoch": epoch, "total_epochs": total_epochs}


def epoch_with_loss(loss_of: Callable, num_classes: int) -> Callable:
    """An epoch_fn whose objective is ``loss_of(model, x, y, config) -> (loss,
    logits)``, config being that epoch's loss_config."""
    def epoch_fn(model, loader, optimizer, epoch, total_epochs):
        config = loss_config(num_classes, epoch, total_epochs)
        return train_epoch(model, loader, optimizer, lambda m, x, y: loss_of(m, x, y, config))
    return epoch_fn


def family_main(script: str, args, check: Callable, prepare: Callable, **data_options) -> None:
    """main() of a family scaffold once its command line is parsed: ``check(args)``
    under --check; otherwise the device and the seed, the data
    (``load_family_data(args, **data_options)``), ``prepare(args, data, device) ->
    dict`` (``model`` and ``epoch_fn``, and any other option of run_training), and
    the fixed loop. Missing data, and a CheckFailed from the scaffold's own checks
    of what the editable code gives, end the run with one ERROR line."""
    if args.check:
        return check(args)
    device = pick_device(args.device, args.profile)
    seed_everything(args.seed)
    try:
        data = load_family_data(args, **data_options)
        run = prepare(args, data, device)
        run_training(os.path.basename(script), args, data, device=device, **run)
    except (DataMissing, CheckFailed) as e:
        raise SystemExit(f"ERROR: {e}")


def family_network(args) -> nn.Module:
    """The setting's network (--arch for --dataset) as its profile trains it."""
    info = DATASETS[args.dataset]
    return fit_to_profile(build_family_model(args.arch, info.num_classes, info.channels),
                          args.profile)


def run_check(args, script: str, what: str, probe: Callable) -> None:
    """--check of a family scaffold: the data are there (CheckFailed
    otherwise), then ``probe(device) -> note`` builds the editable object and
    runs a tiny training step; any error in it becomes one CHECK FAILED
    line naming ``what`` and the line of the scaffold that raised."""
    try:
        data_note = data_check(args)
    except CheckFailed as e:
        fail_check(str(e))
    device = pick_device(args.device, args.profile)
    try:
        seed_everything(args.seed)
        note = probe(device)
    except CheckFailed as e:
        fail_check(str(e))
    except Exception as e:
        fail_check(editable_error(e, script, what))
    print(f"CHECK OK: {args.arch}/{args.dataset} profile={args.profile}: {data_note}; "
          f"{note} on {device}")


def probe_batch(dataset: str, device, n: int = 4):
    """A tiny random batch shaped like the dataset, with labels 0..n-1."""
    info = DATASETS[dataset]
    x = torch.randn(n, info.channels, IMAGE_SIZE, IMAGE_SIZE, device=device)
    return x, torch.arange(n, device=device) % info.num_classes


def probe_steps(model: nn.Module, x, y, profile: str, loss_of=cross_entropy_loss,
                steps: int = 1, optimizer=None) -> tuple:
    """``steps`` training steps of ``model`` on one batch, with the profile's SGD (or
    ``optimizer``); returns (the last loss, a warning to print where it is not finite)."""
    if optimizer is None:
        optimizer, _ = make_optimizer(model.parameters(), protocol(profile))
    for _ in range(steps):
        loss, _ = loss_of(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    value = loss.item()
    return value, "" if math.isfinite(value) else " (warning: the loss is not finite)"


def require_shape(out, want: tuple, what: str) -> None:
    """CheckFailed saying ``what`` and what came instead, unless ``out`` is a tensor
    of shape ``want``."""
    if not torch.is_tensor(out) or tuple(out.shape) != tuple(want):
        raise CheckFailed(f"{what}; got {shape_of(out)}")


def require_scalar(value, what: str) -> None:
    if not torch.is_tensor(value) or value.numel() != 1:
        raise CheckFailed(f"{what} must return a scalar tensor, got {shape_of(value)}")


def shape_of(value) -> str:
    """A tensor's shape, or the type of what is not a tensor (for messages)."""
    return str(tuple(value.shape)) if torch.is_tensor(value) else type(value).__name__


# ============================================================================
# Family: a per-image torchvision transform pipeline (custom_augment.py)
# ============================================================================

class TransformLoader:
    """Training batches through a per-image torchvision transform, as a
    DataLoader(shuffle=True) over PIL images would give them: a fresh order
    per epoch from a generator seeded with ``seed``, the last partial batch
    kept, ``transform(PIL image) -> [C, 32, 32] tensor`` per image (on CPU
    worker processes where there are CPUs to spare), batches moved to
    ``device``. Yields ``(x, labels, None)`` like DeviceLoader."""

    def __init__(self, split: Split, batch_size: int, transform, device, seed: int,
                 workers: int = 0):
        from torch.utils.data import DataLoader
        self.device = torch.device(device)
        self.split = split
        dataset = PILImages(split, transform)
        self.loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                 num_workers=workers, persistent_workers=workers > 0,
                                 pin_memory=self.device.type == "cuda",
                                 generator=torch.Generator().manual_seed(seed))

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield (x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True),
                   None)


class PILImages(torch.utils.data.Dataset):
    """A split as (transform(PIL image), label) pairs: RGB images for
    CIFAR, mode "L" for FashionMNIST (zero-padded to 32x32)."""

    def __init__(self, split: Split, transform=None):
        self.images = split.images.permute(0, 2, 3, 1).numpy()     # N, H, W, C uint8
        self.labels = split.labels
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def image(self, i: int):
        from PIL import Image
        img = self.images[i]
        return Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img)

    def __getitem__(self, i):
        return self.transform(self.image(i)), self.labels[i]
