"""Training throughput of the vision drivers' input pipeline vs. a DataLoader.

Trains ResNet-20 (CIFAR-10 head) for a fixed number of SGD steps two ways in
one run, under the same protocol (batch 128, SGD lr 0.1, momentum 0.9, wd
5e-4, RandomCrop(32, padding=4) + RandomHorizontalFlip, per-channel
normalisation, fp32):

  driver      the drivers' pipeline (drivers/pytorch_vision/vision_common.py):
              uint8 images resident on the device, crop/flip/normalise there,
              channels_last (as the drivers use it), cudnn.benchmark on CUDA;
  dataloader  a plain torchvision loop: a dataset of PIL images with
              transforms.Compose([RandomCrop, RandomHorizontalFlip, ToTensor,
              Normalize]) behind torch.utils.data.DataLoader(shuffle=True),
              batches copied to the device each step, default memory format.

It prints images/s for both and their ratio. Data: CIFAR-10 from --data-root
when its files are there, else the demo profile's generated CIFAR-10-shaped
images (same shapes and dtype, so the same work).

    python benchmarks/driver_throughput.py                 # CPU here, CUDA if present
    python benchmarks/driver_throughput.py --device cuda --steps 300
"""

import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "drivers", "pytorch_vision"))
import vision_common as vc  # noqa: E402


class PILImages(torch.utils.data.Dataset):
    """What torchvision.datasets.CIFAR10 hands a transform: PIL images."""

    def __init__(self, split, transform):
        self.images = split.images.permute(0, 2, 3, 1).contiguous().numpy()   # NHWC
        self.labels = split.labels.tolist()
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_model(device, channels_last):
    torch.manual_seed(0)
    model = vc.build_model("resnet20", 10).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt, _ = vc.make_optimizer(model.parameters(), vc.protocol("paper"))
    return model, opt


def step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def timed_block(batches, model, opt, device, steps):
    """Seconds and images for ``steps`` steps; batches is an endless iterator
    of (x, y) already on the device."""
    sync(device)
    t0 = time.perf_counter()
    images = 0
    for _ in range(steps):
        x, y = next(batches)
        loss = step(model, opt, x, y)
        images += y.numel()
    loss.item()
    sync(device)
    return time.perf_counter() - t0, images


def driver_batches(data, device, channels_last):
    proto = vc.protocol("paper")
    loader, _ = vc.make_loaders(data, proto, device, seed=0, channels_last=channels_last)
    while True:
        for x, y, _ in loader:
            yield x, y


def dataloader_batches(data, device, workers):
    tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize(data.mean, data.std)])
    loader = torch.utils.data.DataLoader(
        PILImages(data.train, tf), batch_size=128, shuffle=True, num_workers=workers,
        pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    while True:
        for x, y in loader:
            yield (x.to(device, non_blocking=True), y.to(device, non_blocking=True))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps per pipeline (default 200 on CUDA, 20 on CPU)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed steps first (default 30 on CUDA, 3 on CPU)")
    p.add_argument("--workers", type=int, default=None,
                   help="DataLoader workers (default 4 on CUDA, 0 on CPU)")
    p.add_argument("--data-root", default=os.environ.get("MLSBENCH_DATA", "./data"))
    p.add_argument("--rounds", type=int, default=4,
                   help="alternating timed blocks per pipeline (default 4)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = vc.pick_device(args.device)
    cuda = device.type == "cuda"
    steps = args.steps or (200 if cuda else 20)
    warmup = args.warmup if args.warmup is not None else (30 if cuda else 3)
    workers = args.workers if args.workers is not None else (4 if cuda else 0)

    if vc.missing_files("cifar10", args.data_root):
        data = vc.demo_data("cifar10", n_train=10_000, n_test=100)
    else:
        data = vc.load_real("cifar10", args.data_root)
    name = torch.cuda.get_device_name(device) if cuda else f"cpu, {torch.get_num_threads()} threads"
    print(f"device: {device} ({name}); torch {torch.__version__}; data: {data.source}")
    print(f"ResNet-20, batch 128, {steps} timed steps after {warmup} warm-up steps each, "
          f"in {args.rounds} alternating blocks")

    cl = vc.channels_last_for("resnet20", device)    # as the drivers run it
    runs = {"driver pipeline": (make_model(device, cl), driver_batches(data, device, cl)),
            f"DataLoader, {workers} workers": (make_model(device, False),
                                               dataloader_batches(data, device, workers))}
    for (model, opt), batches in runs.values():          # warm-up, untimed
        timed_block(batches, model, opt, device, warmup)
    # Alternate blocks of steps so that a shared machine's load hits both alike.
    totals = {name: [0.0, 0] for name in runs}
    per_block = max(1, steps // args.rounds)
    for _ in range(args.rounds):
        for name, ((model, opt), batches) in runs.items():
            seconds, images = timed_block(batches, model, opt, device, per_block)
            totals[name][0] += seconds
            totals[name][1] += images
    rates = {name: images / seconds for name, (seconds, images) in totals.items()}
    for name, rate in rates.items():
        print(f"{name:>24}: {rate:9.1f} images/s")
    drv, dl = rates.values()
    print(f"ratio driver / DataLoader: {drv / dl:.2f}x")


if __name__ == "__main__":
    main()
