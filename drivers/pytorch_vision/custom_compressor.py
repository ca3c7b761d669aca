"""Gradient Compression Benchmark.

Train ResNet-20/56 on CIFAR-10 and VGG-11-BN on CIFAR-100 with simulated
data-parallel SGD whose gradients are compressed before they are averaged,
to evaluate gradient compressors at 100x compression.

FIXED: Model architectures, data pipeline, the simulated workers, the loop.
EDITABLE: Compressor class.

Usage:
    python custom_compressor.py --arch resnet20 --dataset cifar10 --seed 42
    python custom_compressor.py --arch vgg11bn --dataset cifar100 --profile demo
    python custom_compressor.py ... --check      # preflight, prints CHECK OK

Data parallelism, simulated in one process (vision_common.
compressed_data_parallel_step): every batch is split into WORKERS equal
shards; worker k runs forward and backward on its shard, and each
parameter's gradient goes through worker k's own Compressor: compress()
gives what the worker would send, decompress() what the others rebuild
from it. The rebuilt gradients of all workers are averaged (the all-reduce)
and SGD steps on the average (momentum and weight decay after it, as
DistributedDataParallel does). Each worker keeps its own Compressor
instance, so state such as error-feedback residuals is per worker.
BatchNorm statistics are those of each worker's shard.

Protocol (vision_common.protocol): paper = 200 epochs, SGD lr 0.1, momentum
0.9, wd 5e-4, per-epoch cosine to 0, batch 128 (32 per worker),
RandomCrop(32, padding=4) + RandomHorizontalFlip, fp32; quick = the same on
30 epochs; demo = generated data, CPU-sized, batch 32 (8 per worker).

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
then a line with the bytes sent against the dense gradients, and
"FINAL_METRICS best_test_acc=.. best_epoch=.." last.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)

vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."

ARCHS = ("resnet20", "vgg11bn", "resnet56")
DATASETS = ("cifar10", "cifar100")
WORKERS = 4            # simulated data-parallel workers
COMPRESS_RATIO = 0.01  # 100x, every setting


# ============================================================================
# Simulated data-parallel training (FIXED)
# ============================================================================

class Traffic:
    """Bytes the workers sent, against the bytes of the dense gradients."""

    def __init__(self):
        self.sent = self.dense = 0

    def add(self, packed, grad):
        self.sent += sum(t.numel() * t.element_size() for t in packed)
        self.dense += grad.numel() * grad.element_size()

    def report(self):
        ratio = self.dense / max(1, self.sent)
        return (f"  communication: {self.sent / 2**20:.1f} MiB sent for "
                f"{self.dense / 2**20:.1f} MiB of dense gradients ({ratio:.1f}x)")


def make_epoch_fn(compressors):
    def epoch_fn(model, loader, optimizer, epoch, total_epochs):
        model.train()
        traffic = Traffic()
        loss_sum, correct, seen = 0.0, 0, 0
        for x, y, _ in loader:
            loss, out = vc.compressed_data_parallel_step(model, x, y, optimizer,
                                                         compressors, traffic.add)
            loss_sum += loss.item() * y.numel()
            correct += int((out.argmax(1) == y).sum())
            seen += y.numel()
        print(traffic.report(), flush=True)
        return loss_sum / seen, 100.0 * correct / seen
    return epoch_fn


def make_compressors():
    return [Compressor(compress_ratio=COMPRESS_RATIO) for _ in range(WORKERS)]


def check(args):
    """--check: Compressor round-trips a gradient to its shape, and one
    simulated data-parallel step runs on a tiny batch (twice, for state)."""
    def probe(device):
        compressors = make_compressors()
        model = vc.family_network(args).to(device)
        optimizer, _ = vc.make_optimizer(model.parameters(), vc.protocol(args.profile))
        x, y = vc.probe_batch(args.dataset, device, n=2 * WORKERS)
        traffic = Traffic()
        for _ in range(2):
            loss, _ = vc.compressed_data_parallel_step(model, x, y, optimizer, compressors,
                                                       traffic.add)
        warn = "" if math.isfinite(loss.item()) else " (warning: the loss is not finite)"
        return (f"Compressor round-trips every gradient; two simulated {WORKERS}-worker "
                f"steps of {vc.count_params(model):,} parameters{warn};"
                f"{traffic.report().split(':', 1)[1]}")
    vc.run_check(args, __file__, "Compressor", probe)


def prepare(args, data, device):
    return {"model": vc.family_network(args).to(device),
            "epoch_fn": make_epoch_fn(make_compressors()),
            "extra": f"; {WORKERS} simulated workers, compress_ratio {COMPRESS_RATIO}"}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


# (Blank lines below keep the editable region at its published line
#  numbers, so line numbers in published agent transcripts match.)






















































# ============================================================================
# Gradient compressor (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 182-232) ------------------------------------
class Compressor:
    """Compresses one worker's gradients before they are averaged.

    Compressor(compress_ratio=0.01): one instance per simulated worker
    (4 of them), built once before training; compress_ratio is the share
    of the gradient's information to send (0.01 = 100x compression, in
    every setting).

    compress(tensor, name) -> (compressed_tensors, ctx)
      tensor: one parameter's gradient on this worker (any shape);
      name:   the parameter's name (e.g. "layers.0.conv1.weight"), the
              key for per-parameter state such as error feedback;
      compressed_tensors: list of tensors, what would be communicated
              (its bytes are counted and printed each epoch);
      ctx:    anything local needed to decompress (not communicated).
    decompress(compressed_tensors, ctx) -> tensor of the gradient's
      shape: what the other workers rebuild. The rebuilt gradients of
      all workers are averaged and SGD (momentum 0.9, weight decay
      5e-4) steps on the average.
    Called for every parameter on every step of every worker.

    State lives on self (e.g. a dict keyed by name); the instances last
    the whole run. decompress sees only what was sent and ctx, never the
    original gradient. The log counts the bytes of compressed_tensors at
    their dtypes' sizes: int64 indices cost twice a float32 value, and
    narrower dtypes (int32, int8, bool, packed bits) cost less. The
    default sends 1% of the values and their int64 indices, about 33x
    fewer bytes than the dense gradient. torch, nn, F and math are
    imported.

    Default: top-k sparsification without error feedback: send the k =
    ratio * numel entries of largest magnitude (values and indices),
    drop the rest (the dropped mass is lost, not carried to the next
    step).
    """

    def __init__(self, compress_ratio=0.01):
        self.compress_ratio = compress_ratio

    def compress(self, tensor, name):
        flat = tensor.flatten()
        k = max(1, int(flat.numel() * self.compress_ratio))
        _, indices = flat.abs().topk(k, sorted=False)
        return [flat[indices], indices], (tensor.shape, flat.numel())

    def decompress(self, compressed_tensors, ctx):
        values, indices = compressed_tensors
        shape, numel = ctx
        flat = torch.zeros(numel, dtype=values.dtype, device=values.device)
        flat[indices] = values
        return flat.view(shape)
# -- EDITABLE REGION END (lines 182-232) --------------------------------------

if __name__ == "__main__":
    main()
