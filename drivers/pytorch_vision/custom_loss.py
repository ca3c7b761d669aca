"""CV Classification Loss Benchmark.

Train vision models (ResNet-56, VGG-16-BN, MobileNetV2) on CIFAR-100 and
FashionMNIST to evaluate custom training losses.

FIXED: Model architectures, data pipeline, training loop, evaluation.
EDITABLE: compute_loss function.

Usage:
    python custom_loss.py --arch resnet56 --dataset cifar100 --seed 42
    python custom_loss.py --arch mobilenetv2 --dataset fmnist --profile demo
    python custom_loss.py ... --check      # preflight, prints CHECK OK

Protocol (vision_common.protocol): paper = 200 epochs, SGD lr 0.1, momentum
0.9, wd 5e-4, per-epoch cosine to 0, batch 128, RandomCrop(32, padding=4) +
RandomHorizontalFlip, fp32; quick = the same on 30 epochs; demo = generated
data shaped like the dataset, CPU-sized, batch 32.

compute_loss(logits, targets, config) is the training objective of every
step; the test loss printed each epoch is always plain cross-entropy.

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
(train_loss: the mean of compute_loss; lr: after the epoch's scheduler step)
and "FINAL_METRICS best_test_acc=.. best_epoch=.." last.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)

vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."

ARCHS = ("resnet56", "vgg16bn", "mobilenetv2")
DATASETS = ("cifar100", "fmnist")


# ============================================================================
# Training with compute_loss (FIXED)
# ============================================================================

def training_loss(model, x, y, config):
    """(compute_loss of the batch, logits)."""
    out = model(x)
    return compute_loss(out, y, config), out


def check(args):
    """--check: compute_loss returns a differentiable scalar, and one training
    step of the network with it runs on a tiny batch."""
    def checked_loss(model, x, y):
        config = vc.loss_config(vc.DATASETS[args.dataset].num_classes, 0, 200)
        loss, out = training_loss(model, x, y, config)
        vc.require_scalar(loss, "compute_loss")
        if not loss.requires_grad:
            raise vc.CheckFailed("compute_loss must return a differentiable tensor "
                                 "(its result does not depend on the logits)")
        return loss, out

    def probe(device):
        model = vc.family_network(args).to(device)
        x, y = vc.probe_batch(args.dataset, device)
        loss, warn = vc.probe_steps(model, x, y, args.profile, checked_loss)
        return (f"compute_loss gives a scalar ({loss:.4f}){warn}; one training "
                f"step of {vc.count_params(model):,} parameters on a batch of 4")
    vc.run_check(args, __file__, "compute_loss", probe)


def prepare(args, data, device):
    return {"model": vc.family_network(args).to(device),
            "epoch_fn": vc.epoch_with_loss(training_loss, data.info.num_classes)}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


# (Blank lines below keep the editable region at its published line
#  numbers, so line numbers in published agent transcripts match.)






























































































































































# ============================================================================
# Training loss (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 246-266) ------------------------------------
def compute_loss(logits, targets, config):
    """The training loss of one batch.

    logits:  [B, num_classes] raw scores of the network (before softmax);
    targets: [B] integer class labels (int64);
    config:  {"num_classes": int, "epoch": int (0-indexed),
              "total_epochs": int}.
    Returns a differentiable scalar tensor; the loop calls backward() on
    it and logs its batch mean as train_loss. Called once per training
    step. It shapes training only: the test loss stays cross-entropy.
    torch, nn, F and math are imported; import anything else inside.
    State kept across calls (e.g. a module-level dict) is allowed; the
    loss may depend on the epoch and on the number of classes.

    Networks and classes per setting: ResNet-56 and VGG-16-BN on CIFAR-100
    (100 classes), MobileNetV2 on FashionMNIST (10 classes, hidden).

    Default: plain cross-entropy, mean over the batch.
    """
    loss = F.cross_entropy(logits, targets)
    return loss
# -- EDITABLE REGION END (lines 246-266) --------------------------------------

if __name__ == "__main__":
    main()
