"""CV Sample Reweighting Benchmark.

Train ResNet-32 and VGG-16-BN on long-tailed CIFAR-10/100 to evaluate
static per-class loss weights.

FIXED: Model architectures, long-tailed data, training loop, evaluation.
EDITABLE: compute_class_weights function.

Usage:
    python custom_weighting.py --arch resnet32 --dataset cifar10 --imbalance-ratio 100
    python custom_weighting.py --arch vgg16bn --dataset cifar100 --imbalance-ratio 50 \
        --profile demo
    python custom_weighting.py ... --check      # preflight, prints CHECK OK

Data: the training set is long-tailed: class i keeps the first
int(n_max * ratio^(-i / (C - 1))) of its images in file order (n_max = 5000
on CIFAR-10, 500 on CIFAR-100: 12,406 and 10,847 images at ratio 100); the
test set stays balanced. The demo starts from a tenth of n_max generated
images per class and keeps at least one per class.

Protocol (vision_common.protocol): paper = 200 epochs, SGD lr 0.1, momentum
0.9, wd 5e-4, per-epoch cosine to 0, batch 128, RandomCrop(32, padding=4) +
RandomHorizontalFlip, fp32; quick = the same on 30 epochs; demo = generated
data, CPU-sized, batch 32.

compute_class_weights is called once, before training, with the training
set's class counts; every training step then minimises
nn.CrossEntropyLoss(weight=those weights). The test loss is unweighted.

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
(train_loss: the weighted loss; test_acc on the balanced test set) and
"FINAL_METRICS best_test_acc=.. best_epoch=.." last.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import vision_family as vc  # FIXED helpers beside this file (data, models, loop)

vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."

ARCHS = ("resnet32", "vgg16bn")
DATASETS = ("cifar10", "cifar100")


# ============================================================================
# Class weights and the weighted loss (FIXED)
# ============================================================================

def class_weights(counts, args):
    """compute_class_weights' result as a float tensor [C], or CheckFailed
    saying what is wrong with it."""
    num_classes = len(counts)
    config = {"imbalance_ratio": args.imbalance_ratio, "dataset": args.dataset,
              "arch": args.arch, "total_samples": sum(counts)}
    weights = torch.as_tensor(compute_class_weights(list(counts), num_classes, config),
                              dtype=torch.float32).flatten()
    if weights.numel() != num_classes:
        raise vc.CheckFailed(f"compute_class_weights must give {num_classes} weights "
                             f"(one per class); got {weights.numel()}")
    if not torch.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise vc.CheckFailed("compute_class_weights must give finite weights >= 0, not "
                             f"all 0; got {weights.tolist()[:5]}...")
    return weights


def weighted_loss(model, x, y, weights):
    out = model(x)
    return F.cross_entropy(out, y, weight=weights), out


def make_epoch_fn(weights):
    def epoch_fn(model, loader, optimizer, epoch, total_epochs):
        return vc.train_epoch(model, loader, optimizer,
                              lambda m, x, y: weighted_loss(m, x, y, weights))
    return epoch_fn


def add_ratio(parser):
    parser.add_argument("--imbalance-ratio", type=float, default=100.0,
                        help="largest / smallest class of the long-tailed training set")


def check(args):
    """--check: the weights for the setting's class counts are C finite
    values >= 0, and one weighted training step runs on a tiny batch."""
    def probe(device):
        info = vc.DATASETS[args.dataset]
        n_max = vc.LT_N_MAX[(args.dataset, args.profile == "demo")]
        counts = vc.long_tail_counts(n_max, info.num_classes, args.imbalance_ratio)
        weights = class_weights(counts, args).to(device)
        model = vc.family_network(args).to(device)
        x, y = vc.probe_batch(args.dataset, device)
        vc.probe_steps(model, x, y, args.profile,
                       lambda m, x, y: weighted_loss(m, x, y, weights))
        return (f"compute_class_weights gives {len(counts)} weights from "
                f"{weights.min().item():.4g} to {weights.max().item():.4g} for counts "
                f"{counts[0]}..{counts[-1]}; one weighted training step on a batch of 4")
    vc.run_check(args, __file__, "compute_class_weights", probe)


def prepare(args, data, device):
    counts = vc.class_counts(data.train, data.info.num_classes)
    weights = class_weights(counts, args).to(device)
    print(f"class counts {counts[0]}..{counts[-1]}; weights "
          f"{weights[0].item():.4g}..{weights[-1].item():.4g}", flush=True)
    return {"model": vc.family_network(args).to(device), "epoch_fn": make_epoch_fn(weights)}


def main():
    args = vc.family_args(__doc__, ARCHS, DATASETS, add_ratio)
    vc.family_main(__file__, args, check, prepare, imbalance_ratio=args.imbalance_ratio)


# (Blank lines below keep the editable region at its published line
#  numbers, so line numbers in published agent transcripts match.)







































# ============================================================================
# Class weights (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 164-195) ------------------------------------
def compute_class_weights(class_counts, num_classes, config):
    """Per-class weights of the training cross-entropy.

    class_counts: list of num_classes ints, training images per class
                  (class 0 the largest, class C-1 the smallest, as the
                  exponential long-tail profile makes them);
    num_classes:  10 or 100 (the length of class_counts);
    config:       {"imbalance_ratio": 100 or 50, "dataset": "cifar10" |
                   "cifar100", "arch": "resnet32" | "vgg16bn",
                   "total_samples": int, the sum of the counts}.
    Returns C weights (a tensor or a list of numbers, finite, >= 0),
    passed as nn.CrossEntropyLoss(weight=...) for every training step
    (the loss is then the weighted mean over the batch). Called once,
    before training; a pure function of the counts and the config: it
    cannot see the images or the model. torch and math are imported.

    Settings: ResNet-32 on CIFAR-10-LT and CIFAR-100-LT (ratio 100),
    VGG-16-BN on CIFAR-100-LT (ratio 50, hidden). The test set is
    balanced, so every class counts the same there.

    PyTorch's weighted mean divides by the summed weights of the
    batch's targets, so multiplying every weight by one constant changes
    nothing: only the ratios between classes matter. A weight of 0
    drops a class from training. The weights print in the log, first
    and last class, before the first epoch; the loss printed as
    train_loss is the weighted one.

    Default: no reweighting, every class weight 1 (plain cross-entropy,
    where each class counts in proportion to its images).
    """
    weights = torch.ones(num_classes)
    return weights
# -- EDITABLE REGION END (lines 164-195) --------------------------------------

if __name__ == "__main__":
    main()
