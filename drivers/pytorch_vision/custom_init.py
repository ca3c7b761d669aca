"""DL Weight Initialization Benchmark.

Train vision models (ResNet-56, VGG-16-BN, MobileNetV2) on CIFAR-100 and
FashionMNIST to evaluate custom weight initialization schemes.

FIXED: Model architectures, data pipeline, training loop.
EDITABLE: initialize_weights function.

Usage:
    python custom_init.py --arch resnet56 --dataset cifar100 --seed 42
    python custom_init.py --arch mobilenetv2 --dataset fmnist --profile demo
    python custom_init.py ... --check      # preflight, prints CHECK OK

Protocol (vision_common.protocol): paper = 200 epochs, SGD lr 0.1, momentum
0.9, wd 5e-4, per-epoch cosine to 0, batch 128, RandomCrop(32, padding=4) +
RandomHorizontalFlip, fp32; quick = the same on 30 epochs; demo = generated
data shaped like the dataset, CPU-sized, batch 32.

The network is built, every layer is put back to PyTorch's own default
initialisation (reset_parameters: the builders' Kaiming init is undone), and
then initialize_weights(model, config) sets the parameters, under the run's
seed, before training starts.

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_loss=.. test_acc=.. lr=..
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
# Building and initialising the network (FIXED)
# ============================================================================

def init_config(args, model):
    depth = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    return {"arch": args.arch, "num_classes": vc.DATASETS[args.dataset].num_classes,
            "depth": depth}


def build_initialized(args):
    """The setting's network at PyTorch's defaults, then initialize_weights;
    raises CheckFailed when a parameter comes out NaN or infinite."""
    model = vc.family_network(args)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    with torch.no_grad():
        initialize_weights(model, init_config(args, model))
    bad = [n for n, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise vc.CheckFailed(f"initialize_weights left non-finite values in {', '.join(bad[:3])}"
                             + (f" and {len(bad) - 3} more" if len(bad) > 3 else ""))
    return model


def check(args):
    """--check: initialize_weights runs on the setting's network, leaves
    every parameter finite, and one training step follows on a tiny batch."""
    def probe(device):
        model = build_initialized(args).to(device)
        x, y = vc.probe_batch(args.dataset, device)
        loss, warn = vc.probe_steps(model, x, y, args.profile)
        return (f"initialize_weights sets {vc.count_params(model):,} parameters; one "
                f"training step on a batch of 4 (loss {loss:.4f}){warn}")
    vc.run_check(args, __file__, "initialize_weights", probe)


def prepare(args, data, device):
    return {"model": build_initialized(args).to(device), "epoch_fn": vc.plain_epoch}


def main():
    vc.family_main(__file__, vc.family_args(__doc__, ARCHS, DATASETS), check, prepare)


# (Blank lines below keep the editable region at its published line
#  numbers, so line numbers in published agent transcripts match.)





































































































































# ============================================================================
# Weight initialization (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 228-261) ------------------------------------
def initialize_weights(model, config):
    """Set every parameter of the freshly built network.

    model:  the whole network, every layer at PyTorch's default init
            (named_modules() / named_parameters() usable); its layers are
            nn.Conv2d (with bias only in VGG), nn.BatchNorm2d and
            nn.Linear; residual blocks are vision_common's BasicBlock
            (ResNet-56: conv1, bn1, conv2, bn2) and InvertedResidual
            (MobileNetV2, project conv + BN last in .conv);
    config: {"arch": "resnet56" | "vgg16bn" | "mobilenetv2",
             "num_classes": int, "depth": int (Conv2d + Linear layers)}.
    Returns nothing; change the parameters in place. Runs once, under
    torch.no_grad(), before training, with the run's seed; it must not
    look at the data. torch, nn, F, math and vision_common (vc) are
    imported.
    Setting networks: ResNet-56 (CIFAR-100, 56 conv + linear layers),
    VGG-16-BN (CIFAR-100; conv biases and a 3-layer classifier) and
    MobileNetV2 (FashionMNIST, hidden; depthwise convs, groups > 1).
    Dropout, pooling and activations have no parameters; BN running
    statistics are buffers, reset by the builder.

    Default: PyTorch's default initialisation (every layer's own
    reset_parameters(): Kaiming-uniform with a=sqrt(5) for conv and
    linear weights, BN weight 1 and bias 0), written out.
    """
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1 / math.sqrt(nn.init._calculate_fan_in_and_fan_out(module.weight)[0])
                nn.init.uniform_(module.bias, -bound, bound)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
# -- EDITABLE REGION END (lines 228-261) --------------------------------------

if __name__ == "__main__":
    main()
