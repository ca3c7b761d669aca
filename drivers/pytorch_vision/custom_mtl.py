"""CV Multi-Task Loss Benchmark.

Train vision models (ResNet, VGG) on CIFAR-100 with TWO classification heads
(fine: 100 classes, coarse: 20 superclasses) to evaluate multi-task loss
combination strategies.

FIXED: Model architectures, data pipeline, training loop.
EDITABLE: MultiTaskLoss class.

The networks (ResNet-20, ResNet-56, VGG-16-BN, CIFAR variants, in
vision_common.py beside this file) have one shared backbone and two linear
heads on its pooled features: fine (100) and coarse (20). Every batch gives
two cross-entropy losses; MultiTaskLoss turns them into the loss to train.
The result of a run is the best FINE test accuracy over all epochs.

Usage:
    python custom_mtl.py --arch resnet20 --dataset cifar100 --seed 42
    python custom_mtl.py --arch resnet56 --dataset cifar100 --seed 42 \
        --profile paper --data-root DIR
    python custom_mtl.py ... --check      # preflight, prints CHECK OK

Profiles: paper = the published protocol (200 epochs, SGD lr 0.1, momentum
0.9, wd 5e-4, per-epoch cosine to 0, batch 128, RandomCrop(32, padding=4) +
RandomHorizontalFlip, fp32); quick = the same on 30 epochs; demo = generated
data with the 20/100 hierarchy, CPU-sized, batch 32 (vision_common.protocol).

Output: "TRAIN_PLAN unit=epoch total=N" first, one line per epoch
    TRAIN_METRICS: epoch=E train_loss=.. train_acc=.. test_acc=.. lr=..
(train_loss: the combined loss, which may be negative; accuracies: fine head;
lr: after the epoch's scheduler step; a NaN loss prints as nan and training
goes on), and "FINAL_METRICS best_test_acc=.. best_epoch=.." last.
"""

import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import vision_common as vc  # FIXED helpers beside this file (data, models, loop)

vc.install_check_reporter(__file__)  # under --check: errors -> "CHECK FAILED: ..."

NUM_FINE, NUM_COARSE = 100, 20


# ============================================================================
# Multi-task network and training step (FIXED)
# ============================================================================

def build_network(arch):
    """The architecture with two heads: model(x) -> (fine_logits, coarse_logits)."""
    return vc.build_model(arch, (NUM_FINE, NUM_COARSE), act=nn.ReLU)


def split_params(model):
    """(shared backbone parameters, [fine head parameters, coarse head parameters])."""
    heads = [list(h.parameters()) for h in vc.head_modules(model)]
    in_heads = {id(p) for group in heads for p in group}
    shared = [p for p in model.parameters() if id(p) not in in_heads]
    return shared, heads


def task_losses(model, x, fine, coarse):
    """Forward pass; returns ((fine_logits, coarse_logits), [fine_loss, coarse_loss])."""
    fine_logits, coarse_logits = model(x)
    return (fine_logits, coarse_logits), [F.cross_entropy(fine_logits, fine),
                                          F.cross_entropy(coarse_logits, coarse)]


def task_backward(criterion, loss, losses, shared, heads):
    """Compute this step's gradients (they are None before: zero_grad(set_to_none)).

    Default: loss.backward() on the combined loss that MultiTaskLoss returned.

    Gradient hook (for gradient-surgery methods such as PCGrad): if the
    MultiTaskLoss instance has a method
        backward(self, task_losses, shared_params)
    the loop does not call loss.backward(). Instead
      1. each head gets the gradient of its own task's loss:
         fine head <- d fine_loss, coarse head <- d coarse_loss (unweighted);
      2. it calls criterion.backward([fine_loss, coarse_loss], shared_params),
         which must set p.grad for every p in shared_params (the backbone,
         a list of tensors) and for MultiTaskLoss's own parameters, if any.
         The graph is still alive: use torch.autograd.grad(task_loss,
         shared_params, retain_graph=True) for per-task gradients.
    The optimizer step (with weight decay) follows in both cases; the loss
    returned by forward is still what train_loss logs.
    """
    hook = getattr(criterion, "backward", None)
    if not callable(hook):
        loss.backward()
        return
    for task_loss, params in zip(losses, heads):
        grads = torch.autograd.grad(task_loss, params, retain_graph=True)
        for p, g in zip(params, grads):
            p.grad = g
    hook(losses, shared)


def train_one_epoch(model, criterion, loader, optimizer, epoch, total_epochs):
    """One pass over the training set (epoch is 0-indexed here). Returns
    (mean combined loss, fine accuracy %, coarse accuracy %)."""
    model.train()
    criterion.train()
    shared, heads = split_params(model)
    loss_sum = torch.zeros((), device=loader.device)
    correct = torch.zeros(2, device=loader.device, dtype=torch.int64)
    seen = 0
    for x, fine, coarse in loader:
        (fine_logits, coarse_logits), losses = task_losses(model, x, fine, coarse)
        loss = criterion(losses[0], losses[1], epoch, total_epochs)
        optimizer.zero_grad(set_to_none=True)
        task_backward(criterion, loss, losses, shared, heads)
        optimizer.step()
        loss_sum += loss.detach().sum() * fine.numel()
        correct[0] += (fine_logits.detach().argmax(1) == fine).sum()
        correct[1] += (coarse_logits.detach().argmax(1) == coarse).sum()
        seen += fine.numel()
    fine_acc, coarse_acc = (100.0 * correct / seen).tolist()
    return loss_sum.item() / seen, fine_acc, coarse_acc


@torch.no_grad()
def evaluate(model, loader):
    """Test accuracy (%) of the fine head and of the coarse head."""
    model.eval()
    correct = torch.zeros(2, device=loader.device, dtype=torch.int64)
    seen = 0
    for x, fine, coarse in loader:
        fine_logits, coarse_logits = model(x)
        correct[0] += (fine_logits.argmax(1) == fine).sum()
        correct[1] += (coarse_logits.argmax(1) == coarse).sum()
        seen += fine.numel()
    model.train()
    fine_acc, coarse_acc = (100.0 * correct / seen).tolist()
    return fine_acc, coarse_acc


def describe(criterion, limit=8):  # MultiTaskLoss's small tensors, for the log
    parts = [f"{name}={[round(v, 4) for v in t.detach().flatten().tolist()]}"
             for name, t in list(criterion.named_parameters()) + list(criterion.named_buffers())
             if t.numel() <= limit]
    return " ".join(parts)


def check(args):
    """--check: data present, MultiTaskLoss builds, returns a scalar, and one
    training step (forward, backward or the hook, optimizer step) runs on a
    tiny batch."""
    try:
        data_note = vc.data_check(args, with_coarse=True)
    except vc.CheckFailed as e:
        vc.fail_check(str(e))
    device = vc.pick_device(args.device, args.profile)
    proto = vc.protocol(args.profile, args.epochs)
    try:
        vc.seed_everything(args.seed)
        model = build_network(args.arch).to(device)
        criterion = MultiTaskLoss().to(device)
        optimizer, _ = vc.make_optimizer(
            list(model.parameters()) + list(criterion.parameters()), proto)
        shared, heads = split_params(model)
        x = torch.randn(4, 3, vc.IMAGE_SIZE, vc.IMAGE_SIZE, device=device)
        fine = torch.arange(4, device=device) * 25
        coarse = torch.tensor(vc.CIFAR100_FINE_TO_COARSE, device=device)[fine]
        _, losses = task_losses(model, x, fine, coarse)
        loss = criterion(losses[0], losses[1], 0, proto.epochs)
        if not torch.is_tensor(loss) or loss.numel() != 1:
            shape = tuple(loss.shape) if torch.is_tensor(loss) else type(loss).__name__
            raise vc.CheckFailed("MultiTaskLoss.forward must return a scalar tensor, "
                                 f"got {shape}")
        optimizer.zero_grad(set_to_none=True)
        task_backward(criterion, loss, losses, shared, heads)
        optimizer.step()
    except vc.CheckFailed as e:
        vc.fail_check(str(e))
    except Exception as e:
        vc.fail_check(vc.editable_error(e, __file__, "MultiTaskLoss"))
    hook = " with its backward() hook" if callable(getattr(criterion, "backward", None)) else ""
    warn = "" if math.isfinite(loss.item()) else " (warning: the loss is not finite)"
    print(f"CHECK OK: {args.arch}/{args.dataset} profile={args.profile}: {data_note}; "
          f"MultiTaskLoss builds ({vc.count_params(criterion)} parameters), one "
          f"training step{hook} on a batch of 4 on {device} (loss {loss.item():.4f}){warn}")


# ============================================================================
# Multi-Task Loss (EDITABLE)
# ============================================================================

# -- EDITABLE REGION START (lines 195-216) ------------------------------------
class MultiTaskLoss(nn.Module):
    """Combine the fine (100-class) and coarse (20-class) losses into one.

    forward(fine_loss, coarse_loss, epoch, total_epochs) -> scalar tensor
      fine_loss, coarse_loss: scalar cross-entropy tensors of this batch;
      epoch: the current epoch, 0-indexed; total_epochs: schedule length.
    The value returned is what the loop backpropagates and what it logs as
    train_loss. Parameters registered here are trained by the same SGD
    optimizer (with weight decay); any other state may be kept here too.
    Optional gradient hook: define backward(self, task_losses, shared_params)
    to set the backbone's gradients yourself instead (see task_backward
    above; PCGrad-style methods need it).

    Default: equal weighting, fine_loss + coarse_loss.
    """

    def __init__(self, num_tasks=2):
        super().__init__()
        self.num_tasks = num_tasks

    def forward(self, fine_loss, coarse_loss, epoch, total_epochs):
        return fine_loss + coarse_loss
# -- EDITABLE REGION END (lines 195-216) --------------------------------------

# ============================================================================
# Main (FIXED)
# ============================================================================

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=("resnet20", "resnet56", "vgg16bn"),
                        default="resnet20")
    parser.add_argument("--dataset", choices=("cifar100",), default="cifar100")
    return vc.add_common_args(parser).parse_args()


def main():
    args = parse_args()
    if args.check:
        return check(args)
    device, data = vc.start_run(args, with_coarse=True)
    proto = vc.protocol(args.profile, args.epochs)
    model = vc.fit_to_profile(build_network(args.arch), args.profile).to(device)
    channels_last = vc.channels_last_for(args.arch, device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    criterion = MultiTaskLoss().to(device)
    optimizer, scheduler = vc.make_optimizer(
        list(model.parameters()) + list(criterion.parameters()), proto)
    train_loader, test_loader = vc.make_loaders(data, proto, device, args.seed,
                                               channels_last)
    vc.print_header(os.path.basename(__file__), args, data, model, proto, device,
                    extra=f" (+{vc.count_params(criterion)} in MultiTaskLoss)")

    best = vc.BestTracker()
    clock = vc.Timer()
    for epoch in range(1, proto.epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc, train_coarse = train_one_epoch(
            model, criterion, train_loader, optimizer, epoch - 1, proto.epochs)
        scheduler.step()
        test_acc, test_coarse = evaluate(model, test_loader)
        best.update(epoch, test_acc)
        vc.print_metrics(epoch, train_loss=train_loss, train_acc=train_acc,
                         test_acc=test_acc, lr=optimizer.param_groups[0]["lr"])
        print(f"  epoch {epoch}/{proto.epochs}: coarse acc train {train_coarse:.2f} "
              f"test {test_coarse:.2f}; {time.perf_counter() - start:.1f}s "
              f"(total {clock():.0f}s) {describe(criterion)}".rstrip(), flush=True)
    best.print_final()
    vc.print_done(clock, model, criterion)


if __name__ == "__main__":
    main()
