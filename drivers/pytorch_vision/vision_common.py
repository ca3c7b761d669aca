"""Shared FIXED helpers of the pytorch-vision scaffolds.

This file is copied beside custom_activation.py and custom_mtl.py into a
session workspace. Nothing in it is editable; the scaffolds import it as
``import vision_common as vc``. It holds what both scaffolds share:

- the command line every setting accepts (``add_common_args``) and the
  training protocol of each profile (``protocol``);
- data: the real datasets read through torchvision's dataset classes
  (CIFAR-10, CIFAR-100 with its coarse labels, FashionMNIST), the list of
  files each one needs (``missing_files``), and the deterministic generated
  data of the ``demo`` profile (``demo_data``);
- the device-resident input pipeline (``DeviceLoader``): the uint8 images
  live on the training device; RandomCrop(32, padding=4) with zero padding
  and an independent horizontal flip per image per epoch are done there,
  with exactly torchvision's distribution; no per-batch host work;
- the model builders: ResNet-20/56 (CIFAR, option-A shortcuts), VGG-16-BN
  (CIFAR variant) and MobileNetV2 (torchvision's, adapted to 32x32 inputs),
  each taking an activation factory and one or more output heads;
- optimizer / schedule, evaluation, the metrics lines, and the reporting
  used by ``--check``.

The metrics lines go to the channel the engine gives the run (``report``):
a file descriptor named in MLSBENCH_METRICS_FD, taken when this module is
imported (before the scaffold's editable code runs) and the variable
removed; they are printed too, for people. Run by hand, stdout only.

Protocol ``paper`` (the published one): SGD lr 0.1, momentum 0.9, weight
decay 5e-4, cosine annealing to 0 over 200 epochs stepped once per epoch,
batch 128 with the last partial batch kept, fp32 weights and data, seed 42.
``quick`` is the same on 30 epochs. ``demo`` trains 4 epochs on generated
images (DEMO_SIZES per architecture) with batch 32 and lr 0.025, and gives
VGG-16-BN a classifier that can learn in that many steps (``fit_to_profile``).
On the CPU a demo run uses one thread and deterministic algorithms
(``pick_device``), so two runs of the same region end bit-identical (the
log's last line gives the digest of the final weights) and the engine runs
one setting per core.

FashionMNIST (28x28, one channel) is zero-padded by 2 pixels on each side to
32x32 once when loaded (its background is black, so the padding looks like
more background); the usual RandomCrop(32, padding=4) then applies as on
CIFAR, and MobileNetV2's stem convolution takes one input channel.
"""

import argparse
import functools
import hashlib
import math
import os
import pickle
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

# ============================================================================
# Datasets: facts
# ============================================================================

# CIFAR-100 fine label -> coarse label (superclass), as stored in the dataset
# files' ``coarse_labels``; used by the demo data so that its hierarchy has
# the real shape (20 superclasses of 5 classes each).
CIFAR100_FINE_TO_COARSE = (
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15, 0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    num_classes: int
    channels: int
    mean: tuple
    std: tuple
    folder: str            # under the data root
    files: tuple           # needed files, relative to the folder
    url: str               # where the archive comes from


DATASETS = {
    "cifar10": DatasetInfo(
        "cifar10", "CIFAR-10", 10, 3,
        (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
        "cifar-10-batches-py",
        ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
         "data_batch_5", "test_batch", "batches.meta"),
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    "cifar100": DatasetInfo(
        "cifar100", "CIFAR-100", 100, 3,
        (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762),
        "cifar-100-python", ("train", "test", "meta"),
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
    "fmnist": DatasetInfo(
        "fmnist", "FashionMNIST", 10, 1,
        (0.2860,), (0.3530,),
        os.path.join("FashionMNIST", "raw"),
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}

IMAGE_SIZE = 32     # every dataset is fed to the networks at 32x32
CROP_PADDING = 4    # RandomCrop(32, padding=4)


# ============================================================================
# Command line and protocol
# ============================================================================

PROFILES = ("paper", "quick", "demo")


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options every setting accepts (besides --arch and --dataset)."""
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", choices=PROFILES, default="paper",
                        help="paper: published protocol; quick: same data, 30 "
                             "epochs; demo: generated data, CPU-sized")
    parser.add_argument("--data-root",
                        default=os.environ.get("MLSBENCH_DATA", "./data"),
                        help="dataset folder (default: $MLSBENCH_DATA or ./data)")
    parser.add_argument("--download", action="store_true",
                        default=os.environ.get("MLSBENCH_DOWNLOAD") == "1",
                        help="let torchvision download missing datasets "
                             "(default off, or $MLSBENCH_DOWNLOAD=1)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the profile's number of epochs "
                             "(the cosine schedule follows it)")
    parser.add_argument("--device", default="auto",
                        help="auto (cuda when available), cpu, cuda, cuda:N")
    parser.add_argument("--train-size", type=int, default=None,
                        help="use only the first N training images (smoke tests)")
    parser.add_argument("--test-size", type=int, default=None,
                        help="use only the first N test images (smoke tests)")
    parser.add_argument("--check", action="store_true",
                        help="preflight: data present, editable class builds and "
                             "survives one forward/backward; prints CHECK OK")
    return parser


@dataclass(frozen=True)
class Protocol:
    epochs: int
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    eval_batch_size: int = 500


def protocol(profile: str, epochs: Optional[int] = None) -> Protocol:
    """Training protocol of a profile; ``epochs`` overrides its length.

    paper: 200 epochs, batch 128, lr 0.1 (the published protocol);
    quick: the same on 30 epochs;
    demo:  4 epochs, batch 32, lr 0.025 (0.1 scaled linearly to the batch):
           on the few thousand generated images a CPU can train on in a
           minute, smaller batches give the networks enough steps to learn.
    Momentum 0.9, weight decay 5e-4 and the cosine schedule are the same.
    """
    default = {"paper": 200, "quick": 30, "demo": 4}[profile]
    n = default if epochs is None else int(epochs)
    if n < 1:
        raise ValueError("--epochs must be at least 1")
    if profile == "demo":
        return Protocol(epochs=n, batch_size=32, lr=0.025)
    return Protocol(epochs=n)


# demo on the CPU: threads per setting. A fixed count, so that a result does
# not depend on the machine's cores (the thread count changes the order of
# float reductions); one, so that two settings share a 2-core machine side by
# side and no thread spins waiting for a sibling the scheduler has parked
# (ResNet-56 on demo, busy 2-core machine: 293 CPU s on two threads, 69 on one).
DEMO_CPU_THREADS = 1


def pick_device(name: str = "auto", profile: str = "paper") -> torch.device:
    """The training device; for ``demo`` on the CPU also the fixed thread
    count and deterministic algorithms (``runtime_note`` reports them)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    elif profile == "demo":
        torch.set_num_threads(DEMO_CPU_THREADS)
        try:
            torch.set_num_interop_threads(DEMO_CPU_THREADS)
        except RuntimeError:  # already fixed in this process (a second call)
            pass
        torch.use_deterministic_algorithms(True)
        # NaN-filling fresh tensors catches reads of uninitialised memory; it
        # adds work to every allocation and no determinism to correct code.
        torch.utils.deterministic.fill_uninitialized_memory = False
    return device


def runtime_note(device) -> str:
    """How the run computes, for the log header: device, threads, determinism."""
    note = f"device={device}"
    if torch.device(device).type == "cpu":
        note += f" threads={torch.get_num_threads()}"
    if torch.are_deterministic_algorithms_enabled():
        note += " deterministic"
    return note


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


# ============================================================================
# Data
# ============================================================================

@dataclass
class Split:
    """One split of a dataset, as tensors: ``images`` uint8 (N, C, 32, 32),
    ``labels`` int64 (N,), ``coarse`` int64 (N,) or None."""
    images: torch.Tensor
    labels: torch.Tensor
    coarse: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def head(self, n: Optional[int]) -> "Split":
        if n is None or n >= len(self):
            return self
        return Split(self.images[:n], self.labels[:n],
                     None if self.coarse is None else self.coarse[:n])

    def to(self, device) -> "Split":
        return Split(self.images.to(device), self.labels.to(device),
                     None if self.coarse is None else self.coarse.to(device))


@dataclass
class Data:
    info: DatasetInfo
    train: Split
    test: Split
    mean: tuple
    std: tuple
    source: str   # for the log: where the data came from


def dataset_dir(dataset: str, root: str) -> str:
    return os.path.join(root, DATASETS[dataset].folder)


def missing_files(dataset: str, root: str) -> list:
    """The files the dataset needs under ``root`` that are not there."""
    folder = dataset_dir(dataset, root)
    return [os.path.join(folder, f) for f in DATASETS[dataset].files
            if not os.path.isfile(os.path.join(folder, f))]


def missing_data_message(dataset: str, root: str) -> str:
    info = DATASETS[dataset]
    missing = missing_files(dataset, root)
    folder = dataset_dir(dataset, root)
    lines = [f"{info.title} not found under data root {root!r}: expected "
             f"{', '.join(info.files)} in {folder}"
             f" (missing: {', '.join(os.path.basename(m) for m in missing)})."]
    if dataset == "fmnist":
        lines.append(f"Get the four *-ubyte.gz files from {info.url}, gunzip them "
                     f"into {folder}, or run once with --download where the "
                     "network allows.")
    else:
        lines.append(f"Get {info.url} and extract it in {root} (it unpacks to "
                     f"{info.folder}/), or run once with --download where the "
                     "network allows.")
    lines.append("The demo profile (--profile demo) needs no data.")
    return " ".join(lines)


class DataMissing(Exception):
    """Raised when a dataset's files are not under the data root."""


@functools.lru_cache(maxsize=None)
def dataset_classes():
    """torchvision's dataset classes as the loaders use them, imported on
    first use (importing torchvision takes seconds the demo does not need).

    Presence of the files is what is checked: the md5 sums torchvision keeps
    would reject the tiny files the tests write in the real formats (a
    download still verifies the archive's md5). CIFAR-100 also reads the
    ``coarse_labels`` of its files (torchvision keeps only the fine ones).
    """
    import torchvision.datasets as tvd

    def no_md5(file_list):
        return [[name, None] for name, _ in file_list]

    class CIFAR10Files(tvd.CIFAR10):
        train_list = no_md5(tvd.CIFAR10.train_list)
        test_list = no_md5(tvd.CIFAR10.test_list)
        meta = {**tvd.CIFAR10.meta, "md5": None}

    class CIFAR100Files(tvd.CIFAR100):
        train_list = no_md5(tvd.CIFAR100.train_list)
        test_list = no_md5(tvd.CIFAR100.test_list)
        meta = {**tvd.CIFAR100.meta, "md5": None}

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.coarse_targets = []
            for name, _ in (self.train_list if self.train else self.test_list):
                with open(os.path.join(self.root, self.base_folder, name), "rb") as f:
                    entry = pickle.load(f, encoding="latin1")
                self.coarse_targets.extend(entry["coarse_labels"])

    return {"cifar10": CIFAR10Files, "cifar100": CIFAR100Files,
            "fmnist": tvd.FashionMNIST}


def _cifar_split(ds, with_coarse: bool) -> Split:
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    coarse = (torch.as_tensor(ds.coarse_targets, dtype=torch.int64)
              if with_coarse else None)
    return Split(images, labels, coarse)


def _fmnist_split(ds) -> Split:
    pad = (IMAGE_SIZE - ds.data.shape[-1]) // 2       # 28 -> 32: 2 each side
    images = F.pad(ds.data.unsqueeze(1), (pad, pad, pad, pad))
    return Split(images.contiguous(), ds.targets.to(torch.int64))


def load_real(dataset: str, root: str, download: bool = False,
              with_coarse: bool = False) -> Data:
    """Read a real dataset through torchvision's dataset classes."""
    info = DATASETS[dataset]
    if not download and missing_files(dataset, root):
        raise DataMissing(missing_data_message(dataset, root))
    cls = dataset_classes()[dataset]
    train_set = cls(root, train=True, download=download)
    test_set = cls(root, train=False)
    if dataset == "fmnist":
        train, test = _fmnist_split(train_set), _fmnist_split(test_set)
    else:
        coarse = with_coarse and dataset == "cifar100"
        train, test = _cifar_split(train_set, coarse), _cifar_split(test_set, coarse)
    return Data(info, train, test, info.mean, info.std,
                source=f"{info.title} from {dataset_dir(dataset, root)}")


# demo profile: generated images per architecture (train, test), sized so
# that a whole test of a CV task with its default region (two visible
# settings side by side, one thread each) takes at most 90 s on an idle
# 2-core CPU: the longest visible setting sets the pace. CPU seconds per run measured on this project's
# 2-core machine (one thread, import to last line): ResNet-20 27, ResNet-56
# 69, VGG-16-BN 64, MobileNetV2 66 (benchmarks/demo_test_time.py prints them).
# VGG-16-BN costs about 8x ResNet-20 per image (and learns there only with
# fit_to_profile's classifier).
DEMO_SIZES = {"resnet20": (1536, 500), "resnet56": (1536, 300),
              "vgg16bn": (640, 200), "mobilenetv2": (512, 300)}
DEMO_CHUNK = 500   # images generated per seed (a multiple of every class count)
# amplitudes, in pixel units (0..1): mean colour ("tint") of the superclass
# and of the class, a random colour shift per image, stripe textures of the
# superclass and of the class, and pixel noise. Chosen so that the default
# scaffolds reach roughly 30-70% in a demo run: far from chance, far from done.
DEMO_MIX = {
    "cifar100": {"coarse_tint": 0.10, "fine_tint": 0.04, "shift": 0.04,
                 "coarse_tex": 0.20, "fine_tex": 0.10, "noise": 0.10},
    "cifar10": {"coarse_tint": 0.05, "fine_tint": 0.02, "shift": 0.05,
                "coarse_tex": 0.12, "fine_tex": 0.06, "noise": 0.15},
    "fmnist": {"coarse_tint": 0.05, "fine_tint": 0.02, "shift": 0.05,
               "coarse_tex": 0.12, "fine_tex": 0.06, "noise": 0.15},
}


def _gratings(freq, theta, phase, size):
    """Cosine gratings, one per row of the arguments, values in [-1, 1]."""
    coords = torch.arange(size, dtype=torch.float32)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    proj = torch.cos(theta)[:, None, None] * xx + torch.sin(theta)[:, None, None] * yy
    return torch.cos(2 * math.pi * freq[:, None, None] * proj + phase[:, None, None])


def demo_data(dataset: str, n_train: int = 2560, n_test: int = 500) -> Data:
    """Deterministic generated data with the real dataset's shapes and labels.

    Every image is a mid-grey background plus two oriented stripe textures,
    each with a random phase (so it can sit anywhere), and pixel noise: a
    strong texture shared by all classes of a superclass (its colour, stripe
    direction and frequency) and a weaker one of the class itself. For
    CIFAR-100 the superclasses are the real 20 (``CIFAR100_FINE_TO_COARSE``)
    and the coarse labels come with the data: telling the superclasses apart
    is easy, telling the 5 classes inside one apart is the hard part, which
    the coarse task helps with. CIFAR-10 and FashionMNIST get 5 made-up
    superclasses of 2 classes each. Classes are balanced; the data do not
    depend on --seed (real datasets do not either), and a smaller set is a
    prefix of a larger one.
    """
    info = DATASETS[dataset]
    k, c, size = info.num_classes, info.channels, IMAGE_SIZE
    base_seed = {"cifar10": 1010, "cifar100": 1100, "fmnist": 2828}[dataset]
    gen = torch.Generator().manual_seed(base_seed)
    if dataset == "cifar100":
        fine_to_coarse = torch.tensor(CIFAR100_FINE_TO_COARSE)
    else:
        fine_to_coarse = torch.arange(k) // 2

    def prototypes(m):
        """Per (super)class: a unit colour, a stripe frequency (cycles per
        pixel) and a stripe direction."""
        color = torch.rand(m, c, generator=gen) * 2 - 1
        color = color / color.norm(dim=1, keepdim=True).clamp_min(1e-6)
        freq = 0.08 + 0.17 * torch.rand(m, generator=gen)
        return color, freq, math.pi * torch.rand(m, generator=gen)

    n_coarse = int(fine_to_coarse.max()) + 1
    c_color, c_freq, c_theta = prototypes(n_coarse)
    f_color, f_freq, f_theta = prototypes(k)

    c_tint, f_tint = prototypes(n_coarse)[0], prototypes(k)[0]
    mix = DEMO_MIX[dataset]

    def chunk(seed):
        g = torch.Generator().manual_seed(seed)
        # every run of k images holds each class once: any prefix is balanced
        labels = torch.cat([torch.randperm(k, generator=g) for _ in range(DEMO_CHUNK // k)])
        coarse = fine_to_coarse[labels]
        n = DEMO_CHUNK
        stretch = (1 + 0.15 * torch.randn(n, generator=g)).abs()
        tex_c = _gratings(c_freq[coarse] * stretch, c_theta[coarse],
                          2 * math.pi * torch.rand(n, generator=g), size)
        tex_f = _gratings(f_freq[labels], f_theta[labels],
                          2 * math.pi * torch.rand(n, generator=g), size)
        tint = (mix["coarse_tint"] * c_tint[coarse] + mix["fine_tint"] * f_tint[labels]
                + mix["shift"] * torch.randn(n, c, generator=g))
        img = (0.5 + tint[:, :, None, None]
               + mix["coarse_tex"] * c_color[coarse][:, :, None, None] * tex_c[:, None]
               + mix["fine_tex"] * f_color[labels][:, :, None, None] * tex_f[:, None]
               + mix["noise"] * torch.randn(n, c, size, size, generator=g))
        return (img.clamp(0, 1) * 255).round().to(torch.uint8), labels, coarse

    def make(n, stream):
        parts = [chunk(base_seed * 1000 + stream * 100 + i)
                 for i in range(math.ceil(n / DEMO_CHUNK))]
        images, labels, coarse = (torch.cat(t)[:n] for t in zip(*parts))
        return Split(images, labels, coarse if dataset == "cifar100" else None)

    train, test = make(n_train, 1), make(n_test, 2)
    x = train.images.to(torch.float32) / 255
    mean = tuple(x.mean(dim=(0, 2, 3)).tolist())
    std = tuple(x.std(dim=(0, 2, 3)).tolist())
    return Data(info, train, test, mean, std,
                source=f"generated {info.title}-shaped demo data")


def load_data(dataset: str, profile: str, root: str, download: bool = False,
              with_coarse: bool = False, train_size: Optional[int] = None,
              test_size: Optional[int] = None, arch: str = "resnet20") -> Data:
    """The data of a run: the real dataset, or for ``demo`` the generated one
    sized for ``arch`` (DEMO_SIZES); train_size / test_size cut either."""
    if profile == "demo":
        n_train, n_test = DEMO_SIZES[arch]
        return demo_data(dataset, train_size or n_train, test_size or n_test)
    data = load_real(dataset, root, download=download, with_coarse=with_coarse)
    data.train, data.test = data.train.head(train_size), data.test.head(test_size)
    return data


def start_run(args, with_coarse: bool = False):
    """(device, data) of a run, --check ruled out: the device picked, the seed
    set, the setting's data loaded; missing data ends the run with one ERROR
    line."""
    device = pick_device(args.device, args.profile)
    seed_everything(args.seed)
    try:
        return device, load_data(args.dataset, args.profile, args.data_root, args.download,
                                 with_coarse=with_coarse, train_size=args.train_size,
                                 test_size=args.test_size, arch=args.arch)
    except DataMissing as e:
        raise SystemExit(f"ERROR: {e}")


# ============================================================================
# Device-resident augmentation and batching
# ============================================================================

def sample_crop_flip(n: int, generator: torch.Generator, device,
                     padding: int = CROP_PADDING):
    """Per-image random crop offsets and flips, torchvision's distribution:
    top and left offsets uniform over the 2*padding+1 positions of the padded
    image (RandomCrop), flip with probability 1/2 (RandomHorizontalFlip)."""
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device)
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    return dy, dx, flip


def crop_flip(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor,
              flip: torch.Tensor, padding: int = CROP_PADDING) -> torch.Tensor:
    """RandomCrop(size, padding) with zero fill, then RandomHorizontalFlip,
    with given offsets, on a uint8 batch (N, C, H, W), in one gather.

    Image i is ``hflip(crop(pad(img, padding, fill=0), dy[i], dx[i], H, W))``
    if flip[i] else the crop alone, pixel for pixel as torchvision computes it.
    """
    n, c, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    dev = images.device
    rows = dy[:, None] + torch.arange(h, device=dev)                        # (N, H)
    cols = torch.arange(w, device=dev).expand(n, w)
    cols = torch.where(flip[:, None], w - 1 - cols, cols) + dx[:, None]     # (N, W)
    return padded[torch.arange(n, device=dev)[:, None, None, None],
                  torch.arange(c, device=dev)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


class Normalizer:
    """uint8 -> float32 in [0, 1] (ToTensor) -> (x - mean) / std (Normalize)."""

    def __init__(self, mean, std, device, channels_last=False):
        self.mean = torch.tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)
        self.channels_last = channels_last

    def __call__(self, images_u8: torch.Tensor) -> torch.Tensor:
        x = images_u8.to(torch.float32).div(255).sub(self.mean).div(self.std)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


class DeviceLoader:
    """Batches of one split that lives on the training device.

    Training: a fresh random order per epoch (like DataLoader(shuffle=True)),
    batches of ``batch_size`` with the last partial batch kept (50,000 / 128
    gives 391 steps), RandomCrop(32, padding=4) + RandomHorizontalFlip drawn
    per image per epoch. Test: fixed order, no augmentation. Yields
    ``(x, labels, coarse)``; coarse is None when the split has none.
    All random numbers come from one generator on the device seeded with
    ``seed``, so a run is repeatable.
    """

    def __init__(self, split: Split, batch_size: int, normalizer: Normalizer,
                 train: bool, seed: int = 0, device=None):
        device = torch.device(device) if device is not None else split.images.device
        self.split = split.to(device)
        self.batch_size = batch_size
        self.normalizer = normalizer
        self.train = train
        self.device = device
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.split) / self.batch_size)

    def __iter__(self):
        s, n, b = self.split, len(self.split), self.batch_size
        if self.train:
            order = torch.randperm(n, generator=self.generator, device=self.device)
            dy, dx, flip = sample_crop_flip(n, self.generator, self.device)
        for i in range(0, n, b):
            if self.train:
                idx = order[i:i + b]
                imgs = crop_flip(s.images[idx], dy[i:i + b], dx[i:i + b], flip[i:i + b])
                labels = s.labels[idx]
                coarse = None if s.coarse is None else s.coarse[idx]
            else:
                imgs, labels = s.images[i:i + b], s.labels[i:i + b]
                coarse = None if s.coarse is None else s.coarse[i:i + b]
            yield self.normalizer(imgs), labels, coarse


def channels_last_for(arch: str, device) -> bool:
    """Memory format of the run (it does not change the maths): channels_last
    on CUDA, and on CPU where it measured faster (not for MobileNetV2)."""
    return torch.device(device).type == "cuda" or arch != "mobilenetv2"


def make_loaders(data: Data, proto: Protocol, device, seed: int,
                 channels_last: bool = False):
    """Training and test loaders on ``device``; batches come out in
    channels_last memory format when asked (the model should match)."""
    norm = Normalizer(data.mean, data.std, device, channels_last)
    train = DeviceLoader(data.train, proto.batch_size, norm, True, seed, device)
    test = DeviceLoader(data.test, proto.eval_batch_size, norm, False, seed, device)
    return train, test


# ============================================================================
# Models
# ============================================================================
# Each model takes ``act``, a zero-argument factory called once per use site
# (so a module with parameters gets its own per site), and ``num_classes``:
# an int (one head, forward returns logits) or a sequence of ints (one linear
# head each on the shared features, forward returns a tuple of logits).

ActFactory = Callable[[], nn.Module]
Classes = Union[int, Sequence[int]]


def init_weights(model: nn.Module, conv_nonlinearity: str = "relu",
                 zero_conv_bias: bool = False, linear_std: Optional[float] = None) -> None:
    """The usual start of the CIFAR networks: conv weights Kaiming-normal
    (fan_out; with ``zero_conv_bias`` their biases 0), BN weight 1 and bias 0,
    and with ``linear_std`` the Linear layers N(0, linear_std^2) with bias 0
    (else as PyTorch made them: a custom block's own layers keep their
    defaults). In ``model.modules()`` order, so the random draws come in the
    same order wherever it is called."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity=conv_nonlinearity)
            if zero_conv_bias:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear) and linear_std is not None:
            nn.init.normal_(m.weight, 0, linear_std)
            nn.init.zeros_(m.bias)


class _Heads(nn.Module):
    def __init__(self, in_features: int, num_classes: Classes):
        super().__init__()
        self.multi = not isinstance(num_classes, int)
        sizes = list(num_classes) if self.multi else [num_classes]
        self.heads = nn.ModuleList(nn.Linear(in_features, k) for k in sizes)

    def forward(self, z):
        out = tuple(h(z) for h in self.heads)
        return out if self.multi else out[0]


class OptionAShortcut(nn.Module):
    """He et al.'s option A: subsample by 2, zero-pad the new channels."""

    def __init__(self, in_planes: int, planes: int):
        super().__init__()
        self.pad = planes - in_planes

    def forward(self, x):
        x = x[:, :, ::2, ::2]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int, act: ActFactory):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = act()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = (OptionAShortcut(in_planes, planes)
                         if stride != 1 or in_planes != planes else nn.Identity())
        self.act2 = act()

    def forward(self, x):
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet for CIFAR (He et al. 2016, sec. 4.2): 6n+2 layers, 16/32/64
    channels, identity shortcuts with zero-padding (option A)."""

    def __init__(self, depth: int, num_classes: Classes, act: ActFactory = nn.ReLU,
                 in_channels: int = 3):
        super().__init__()
        assert (depth - 2) % 6 == 0, "depth must be 6n+2"
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.act = act()
        blocks, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(BasicBlock(in_planes, planes, stride if i == 0 else 1, act))
                in_planes = planes
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = _Heads(64, num_classes)
        init_weights(self)

    def forward(self, x):
        x = self.layers(self.act(self.bn1(self.conv1(x))))
        return self.head(torch.flatten(self.pool(x), 1))


VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
             512, 512, 512, "M", 512, 512, 512, "M")


class VGG16BN(nn.Module):
    """VGG-16 with BatchNorm, CIFAR variant (as chenyaofo/pytorch-cifar-models):
    13 conv-BN-act layers, 5 max-pools (32 -> 1), classifier 512-512-512."""

    def __init__(self, num_classes: Classes, act: ActFactory = nn.ReLU,
                 in_channels: int = 3):
        super().__init__()
        layers, c = [], in_channels
        for v in VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), act()]
                c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(512, 512), act(), nn.Dropout(),
            nn.Linear(512, 512), act(), nn.Dropout())
        self.head = _Heads(512, num_classes)
        init_weights(self, zero_conv_bias=True, linear_std=0.01)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return self.head(self.classifier(x))

    def lighten_classifier(self) -> None:
        """PyTorch's default Linear init and no dropout in the classifier (the
        convolutions, where the activations and the features are, unchanged)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
            elif isinstance(m, nn.Dropout):
                m.p = 0.0


def fit_to_profile(model: nn.Module, profile: str) -> nn.Module:
    """The model a profile trains. ``demo`` only: VGG-16-BN with the published
    classifier (three Linear layers initialised at std 0.01, dropout 0.5)
    stays at chance level for the 80 steps of a demo run (train loss
    ln(100) after 4 epochs); with ``lighten_classifier`` it learns (10-11%
    on the CIFAR-100-shaped demo data), so a change to the scaffold shows."""
    if profile == "demo" and isinstance(model, VGG16BN):
        model.lighten_classifier()
    return model


def _conv_bn_act(inp, out, kernel, stride, groups, act):
    return nn.Sequential(
        nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out), act())


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand: int, act: ActFactory):
        super().__init__()
        hidden = int(round(inp * expand))
        self.use_res = stride == 1 and inp == oup
        layers = []
        if expand != 1:
            layers.append(_conv_bn_act(inp, hidden, 1, 1, 1, act))
        layers += [_conv_bn_act(hidden, hidden, 3, stride, hidden, act),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al. 2018) as torchvision builds it (width 1.0,
    ReLU6 -> ``act``, dropout 0.2 before the classifier), adapted to 32x32
    inputs as CIFAR ports do: the stem and the first 24-channel block use
    stride 1 instead of 2 (overall stride 8: 32x32 -> 4x4)."""

    # expansion t, channels c, repeats n, stride s (torchvision's s in brackets)
    SETTING = ((1, 16, 1, 1), (6, 24, 2, 1),  # [2]
               (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
               (6, 320, 1, 1))

    def __init__(self, num_classes: Classes, act: ActFactory = nn.ReLU6,
                 in_channels: int = 3):
        super().__init__()
        layers = [_conv_bn_act(in_channels, 32, 3, 1, 1, act)]   # stride [2]
        c = 32
        for t, out, n, s in self.SETTING:
            for i in range(n):
                layers.append(InvertedResidual(c, out, s if i == 0 else 1, t, act))
                c = out
        layers.append(_conv_bn_act(c, 1280, 1, 1, 1, act))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.head = _Heads(1280, num_classes)
        init_weights(self, conv_nonlinearity="leaky_relu", linear_std=0.01)  # kaiming_normal_'s default

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.head(self.dropout(torch.flatten(x, 1)))


ARCHS = ("resnet20", "resnet56", "vgg16bn", "mobilenetv2")


def build_model(arch: str, num_classes: Classes, act: ActFactory = nn.ReLU,
                in_channels: int = 3) -> nn.Module:
    if arch == "resnet20":
        return CifarResNet(20, num_classes, act, in_channels)
    if arch == "resnet56":
        return CifarResNet(56, num_classes, act, in_channels)
    if arch == "vgg16bn":
        return VGG16BN(num_classes, act, in_channels)
    if arch == "mobilenetv2":
        return MobileNetV2(num_classes, act, in_channels)
    raise ValueError(f"unknown arch {arch!r}; choose from {', '.join(ARCHS)}")


def head_modules(model: nn.Module) -> list:
    """The output heads (nn.Linear), in the order of ``num_classes``."""
    return list(model.head.heads)


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ============================================================================
# Optimisation, evaluation, output
# ============================================================================

def make_optimizer(params, proto: Protocol):
    """SGD(lr, momentum, weight decay) and the per-epoch cosine schedule to 0:
    after epoch e the lr is lr0 * (1 + cos(pi * e / epochs)) / 2."""
    opt = torch.optim.SGD(params, lr=proto.lr, momentum=proto.momentum,
                          weight_decay=proto.weight_decay)
    epochs = proto.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda e: 0.5 * (1.0 + math.cos(math.pi * min(e, epochs) / epochs)))
    return opt, sched


@torch.no_grad()
def evaluate(model: nn.Module, loader: DeviceLoader, head: int = 0):
    """Mean cross-entropy and accuracy (%) of one head on a split."""
    model.eval()
    dev = loader.device
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.int64)
    n = 0
    for x, y, y2 in loader:
        out = model(x)
        if isinstance(out, tuple):
            out = out[head]
        loss_sum += F.cross_entropy(out, y, reduction="sum")
        correct += (out.argmax(1) == y).sum()
        n += y.numel()
    model.train()
    return loss_sum.item() / n, 100.0 * correct.item() / n


def _take_metrics_channel():
    """The file this run's results are read from, opened by the engine's runner on the
    descriptor named in MLSBENCH_METRICS_FD; None when run by hand. Taken at import, before
    the editable code runs, and the variable removed so that code does not find it by name:
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


def report(line: str) -> None:
    """A metrics line: to the engine's channel, and to the log for people."""
    if _METRICS_CHANNEL is not None:
        _METRICS_CHANNEL.write(line + "\n")
        _METRICS_CHANNEL.flush()
    print(line, flush=True)


def fmt(value: float, digits: int) -> str:
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}f}"


def print_metrics(epoch: int, **metrics) -> None:
    """``TRAIN_METRICS: epoch=E k=v ...``: losses with 4 decimals, accuracies
    (%) with 2, lr with 6."""
    parts = [f"epoch={epoch}"]
    for key, value in metrics.items():
        digits = 6 if key == "lr" else 2 if key.endswith("acc") else 4
        parts.append(f"{key}={fmt(value, digits)}")
    report("TRAIN_METRICS: " + " ".join(parts))


class BestTracker:
    """Best test accuracy over epochs (NaN never counts as best)."""

    def __init__(self):
        self.acc, self.epoch = float("nan"), 0

    def update(self, epoch: int, acc: float) -> None:
        if not math.isnan(acc) and (math.isnan(self.acc) or acc > self.acc):
            self.acc, self.epoch = acc, epoch

    def print_final(self) -> None:
        report(f"FINAL_METRICS best_test_acc={fmt(self.acc, 2)} best_epoch={self.epoch}")


def print_header(script: str, args, data: Data, model: nn.Module, proto: Protocol,
                 device, extra: str = "") -> None:
    train_steps = math.ceil(len(data.train) / proto.batch_size)
    print(f"{script}: arch={args.arch} dataset={args.dataset} profile={args.profile} "
          f"seed={args.seed} {runtime_note(device)} torch={torch.__version__}", flush=True)
    print(f"data: {data.source}; train {len(data.train)} / test {len(data.test)} "
          f"images, {train_steps} steps per epoch", flush=True)
    print(f"model: {count_params(model):,} parameters{extra}; SGD lr={proto.lr} "
          f"momentum={proto.momentum} wd={proto.weight_decay} batch={proto.batch_size}, "
          f"cosine over {proto.epochs} epochs", flush=True)
    report(f"TRAIN_PLAN unit=epoch total={proto.epochs}")


# ============================================================================
# --check reporting
# ============================================================================

class CheckFailed(Exception):
    """An expected preflight failure: its message is printed as is."""


def editable_error(exc: BaseException, script: str, what: str) -> str:
    """One line naming the exception and the deepest line of ``script`` in
    its traceback, e.g. ``CustomActivation raised NameError: name 'y' is not
    defined (custom_activation.py line 47: return y)``."""
    where = ""
    script = os.path.abspath(script)
    if isinstance(exc, SyntaxError) and exc.filename and \
            os.path.abspath(exc.filename) == script:
        where = f" ({os.path.basename(script)} line {exc.lineno}: {(exc.text or '').strip()})"
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == script:
            where = f" ({os.path.basename(script)} line {frame.lineno}: {frame.line})"
    return f"{what} raised {type(exc).__name__}: {exc}{where}"


def fail_check(message: str, code: int = 1):
    print(f"CHECK FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def _check_excepthook(script: str):
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            return sys.__excepthook__(exc_type, exc, tb)
        fail_check(editable_error(exc.with_traceback(tb), script, "the scaffold"))
    return hook


def install_check_reporter(script: str) -> None:
    """Under --check, an uncaught exception (e.g. in the editable class's
    body) becomes one ``CHECK FAILED:`` line instead of a traceback."""
    if "--check" in sys.argv:
        sys.excepthook = _check_excepthook(script)


def data_check(args, with_coarse: bool = False) -> str:
    """Data part of --check: a description, or CheckFailed."""
    if args.profile == "demo":
        return "demo data is generated (no files needed)"
    if args.download:
        return f"data root {args.data_root} (download allowed)"
    if missing_files(args.dataset, args.data_root):
        raise CheckFailed(missing_data_message(args.dataset, args.data_root))
    folder = dataset_dir(args.dataset, args.data_root)
    return f"{DATASETS[args.dataset].title} files found in {folder}"


class Timer:
    def __init__(self):
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0


def weights_digest(*modules: nn.Module) -> str:
    """sha256 (16 hex digits) of the modules' parameters and buffers: names,
    dtypes, shapes and every bit of the values. Two runs with the same digest
    ended with bit-identical weights."""
    h = hashlib.sha256()
    for module in modules:
        for name, t in module.state_dict().items():
            t = t.detach().cpu().contiguous()
            h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def print_done(clock: Timer, *modules: nn.Module) -> None:
    """The run's last log line: its cost (training wall time, CPU time of the
    whole process) and the digest of the final weights (repeatability)."""
    print(f"done: training took {clock():.1f} s wall, the process {time.process_time():.1f} s "
          f"CPU; final weights sha256 {weights_digest(*modules)}", flush=True)


# ============================================================================
# The training loop
# ============================================================================

def cross_entropy_loss(model, x, y):
    """The default training objective: (cross-entropy, logits)."""
    out = model(x)
    return F.cross_entropy(out, y), out


def train_epoch(model: nn.Module, loader, optimizer, loss_of=cross_entropy_loss):
    """One pass over the training set with ``loss_of(model, x, y) ->
    (loss, logits)``; returns (mean loss, accuracy %)."""
    model.train()
    loss_sum = torch.zeros((), device=loader.device)
    correct = torch.zeros((), device=loader.device, dtype=torch.int64)
    seen = 0
    for x, y, _ in loader:
        loss, out = loss_of(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * y.numel()
        correct += (out.detach().argmax(1) == y).sum()
        seen += y.numel()
    return loss_sum.item() / seen, 100.0 * correct.item() / seen


def plain_epoch(model, loader, optimizer, epoch, total_epochs):
    """An epoch_fn of plain cross-entropy training (the editable object is in the model)."""
    return train_epoch(model, loader, optimizer)


def run_training(script: str, args, data: Data, model: nn.Module, device,
                 epoch_fn: Callable, set_lr: Callable = None, extra: str = "",
                 train_loader=None, params=None) -> None:
    """The fixed loop of a family run: SGD with the profile's protocol,
    per-epoch cosine (or, given ``set_lr(epoch0, optimizer)``, the lr it
    sets before each epoch), ``epoch_fn(model, loader, optimizer, epoch0,
    epochs) -> (train_loss, train_acc)``, evaluation after every epoch, the
    metrics lines and the best test accuracy."""
    proto = protocol(args.profile, args.epochs)
    channels_last = channels_last_for(args.arch, device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer, scheduler = make_optimizer(model.parameters() if params is None
                                          else params, proto)
    loaders = make_loaders(data, proto, device, args.seed, channels_last)
    train_loader = train_loader or loaders[0]
    print_header(script, args, data, model, proto, device, extra)
    best, clock = BestTracker(), Timer()
    for epoch in range(1, proto.epochs + 1):
        start = time.perf_counter()
        if set_lr is not None:
            set_lr(epoch - 1, optimizer)
        lr = optimizer.param_groups[0]["lr"]
        train_loss, train_acc = epoch_fn(model, train_loader, optimizer,
                                         epoch - 1, proto.epochs)
        if set_lr is None:
            scheduler.step()
            lr = optimizer.param_groups[0]["lr"]
        test_loss, test_acc = evaluate(model, loaders[1])
        best.update(epoch, test_acc)
        print_metrics(epoch, train_loss=train_loss, train_acc=train_acc,
                      test_loss=test_loss, test_acc=test_acc, lr=lr)
        print(f"  epoch {epoch}/{proto.epochs} took {time.perf_counter() - start:.1f}s "
              f"(total {clock():.0f}s)", flush=True)
    best.print_final()
    print_done(clock, model)
