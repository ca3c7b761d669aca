"""GPU check of the pytorch-vision drivers: what the paper protocol costs.

Prints, on one CUDA device:
1. the paper-profile epoch time of ResNet-20 and ResNet-56 (batch 128, SGD,
   fp32, 391 steps, then the 10,000-image evaluation) on generated data of
   CIFAR's real size (50,000 + 10,000 images of 3x32x32), through the
   drivers' own device-resident pipeline;
2. that pipeline's training images/s against a torchvision DataLoader loop
   (PIL images, RandomCrop(32, padding=4) + RandomHorizontalFlip + ToTensor +
   Normalize on worker processes, pinned memory) training the same
   ResNet-20 on the same GPU (the issue's goal: at least 3x);
3. the wall time of a whole `quick` test (30 epochs, both visible settings)
   of cv-multitask-loss through the engine's command line, on CIFAR-100
   files of the real size and format written to a temporary data root.

    python benchmarks/gpu_check.py            # all three, about 8 minutes on an H100
    python benchmarks/gpu_check.py --skip-quick-test

It stops at once, with a message and exit status 2, where no CUDA device is
visible.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VISION = ROOT / "drivers" / "pytorch_vision"


def stop(message: str):
    print(f"gpu_check: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def require_cuda():
    """torch with a visible CUDA device, or exit 2 saying what is missing."""
    try:
        import torch
    except ImportError:
        stop("torch is not installed here (pip install -e '.[test]').")
    if not torch.cuda.is_available():
        stop(f"no CUDA device is visible (torch {torch.__version__}, CUDA build "
             f"{torch.version.cuda or 'none'}); run it on a GPU machine.")
    return torch


def generated_cifar(vc, torch, n_train=50_000, n_test=10_000, classes=100):
    """Random uint8 images and labels of CIFAR's real size (timing only:
    the contents do not change the cost)."""
    g = torch.Generator().manual_seed(0)
    def split(n):
        return vc.Split(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                        torch.randint(0, classes, (n,), generator=g))
    info = vc.DATASETS["cifar100"]
    return vc.Data(info, split(n_train), split(n_test), info.mean, info.std,
                   source="generated, CIFAR-sized")


def epoch_times(vc, torch, device):
    """Seconds per paper epoch (train + evaluation) of ResNet-20 and -56,
    after one warm-up epoch (cuDNN autotuning), and the train images/s."""
    data = generated_cifar(vc, torch)
    proto = vc.protocol("paper")
    out = {}
    for arch in ("resnet20", "resnet56"):
        model = vc.build_family_model(arch, 100).to(device)
        model = model.to(memory_format=torch.channels_last)
        optimizer, _ = vc.make_optimizer(model.parameters(), proto)
        train, test = vc.make_loaders(data, proto, device, 42, channels_last=True)
        times = []
        for _ in range(2):
            torch.cuda.synchronize()
            start = time.perf_counter()
            vc.train_epoch(model, train, optimizer)
            torch.cuda.synchronize()
            trained = time.perf_counter()
            vc.evaluate(model, test)
            torch.cuda.synchronize()
            times.append((trained - start, time.perf_counter() - start))
        train_s, total_s = times[-1]
        out[arch] = (train_s, total_s)
        print(f"  {arch}: {total_s:.2f} s per paper epoch ({train_s:.2f} s training, "
              f"{len(data.train) / train_s:,.0f} images/s; warm-up epoch {times[0][1]:.2f} s); "
              f"200 epochs ~ {200 * total_s / 60:.1f} min", flush=True)
    return out


def dataloader_rate(vc, torch, device, steps=300, workers=None):
    """Training images/s of ResNet-20 fed by a torchvision DataLoader."""
    import torchvision.transforms as T
    from torch.utils.data import DataLoader
    data = generated_cifar(vc, torch)
    info = data.info
    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                           T.ToTensor(), T.Normalize(info.mean, info.std)])
    workers = workers or min(8, os.cpu_count() or 1)
    loader = DataLoader(vc.PILImages(data.train, transform), batch_size=128, shuffle=True,
                        num_workers=workers, pin_memory=True, persistent_workers=True,
                        drop_last=True)
    model = vc.build_family_model("resnet20", 100).to(device).to(memory_format=torch.channels_last)
    optimizer, _ = vc.make_optimizer(model.parameters(), vc.protocol("paper"))
    model.train()
    seen, start = 0, None
    for i, (x, y) in enumerate(loader):
        if i == 20:                       # after workers start and cuDNN tunes
            torch.cuda.synchronize()
            start, seen = time.perf_counter(), 0
        x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        y = y.to(device, non_blocking=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += y.numel()
        if i == 20 + steps:
            break
    torch.cuda.synchronize()
    return seen / (time.perf_counter() - start), workers


def write_cifar100(root: Path, n_train=50_000, n_test=10_000) -> None:
    """CIFAR-100 python files of the real size, random contents."""
    import numpy as np
    import vision_family as vc  # vision_common and the family pieces
    rng = np.random.default_rng(0)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    fine_to_coarse = np.array(vc.CIFAR100_FINE_TO_COARSE)
    for name, n in (("train", n_train), ("test", n_test)):
        fine = rng.integers(0, 100, n)
        with open(folder / name, "wb") as f:
            pickle.dump({"filenames": [f"{i}.png" for i in range(n)], "batch_label": name,
                         "fine_labels": fine.tolist(),
                         "coarse_labels": fine_to_coarse[fine].tolist(),
                         "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}, f)
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"f{i}" for i in range(100)],
                     "coarse_label_names": [f"c{i}" for i in range(20)]}, f)


def quick_test_time() -> float:
    """Wall seconds of `session test` of a new cv-multitask-loss session on
    the quick profile (every visible setting, 30 epochs each)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_cifar100(tmp / "data")
        cli = [sys.executable, "-m", "tui.cli", "--sessions-dir", str(tmp / "sessions"),
               "--data-root", str(tmp / "data")]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run(cli + ["session", "new", "--task", "cv-multitask-loss",
                              "--profile", "quick"], check=True, env=env, cwd=ROOT)
        start = time.perf_counter()
        proc = subprocess.run(cli + ["session", "test"], env=env, cwd=ROOT,
                              capture_output=True, text=True)
        took = time.perf_counter() - start
        tail = "\n".join(proc.stdout.splitlines()[-8:])
        print(f"  session test exit {proc.returncode}; last lines:\n{tail}", flush=True)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], flush=True)
        return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-quick-test", action="store_true",
                        help="leave out the whole quick test of cv-multitask-loss")
    args = parser.parse_args()
    torch = require_cuda()
    sys.path.insert(0, str(VISION))
    import vision_family as vc  # vision_common and the family pieces
    device = vc.pick_device("cuda")
    print(f"gpu_check: {torch.cuda.get_device_name(device)}, torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, {os.cpu_count()} CPUs", flush=True)
    clock = time.perf_counter()
    print("1. paper-profile epochs (generated CIFAR-sized data, fp32, batch 128):", flush=True)
    epochs = epoch_times(vc, torch, device)
    print("2. input pipelines, ResNet-20 training images/s:", flush=True)
    rate, workers = dataloader_rate(vc, torch, device)
    train_s = epochs["resnet20"][0]
    driver = 50_000 / train_s
    print(f"  driver pipeline {driver:,.0f} images/s; torchvision DataLoader "
          f"({workers} workers) {rate:,.0f} images/s: {driver / rate:.1f}x "
          f"(goal >= 3x)", flush=True)
    if not args.skip_quick_test:
        print("3. a whole quick test of cv-multitask-loss through the engine:", flush=True)
        took = quick_test_time()
        print(f"  quick test: {took / 60:.1f} min", flush=True)
    print(f"gpu_check done in {(time.perf_counter() - clock) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
