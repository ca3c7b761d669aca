def compute_regularization(model, inputs, outputs, targets, config):
    """An extra term added to the cross-entropy of every training step.

    model:   the whole network (named_parameters(), named_modules() usable;
             forward hooks registered here see the following steps);
    inputs:  [B, C, 32, 32] the normalised, augmented batch (C = 3; 1 on
             FashionMNIST);
    outputs: [B, num_classes] the logits of this batch;
    targets: [B] integer labels;
    config:  {"num_classes": int, "epoch": int (0-indexed),
              "total_epochs": int}.
    Returns a scalar (a tensor, or a number) that is added to the
    cross-entropy before backward(). Weight decay 5e-4 is already in
    the optimizer, on top of whatever this adds. torch, nn, F and math
    are imported; state kept across calls is allowed.

    Networks per setting: ResNet-56 and VGG-16-BN on CIFAR-100,
    MobileNetV2 on FashionMNIST (hidden).

    Called once per training step, after the forward pass of the batch
    and before backward(); never at evaluation. Activation penalties
    need forward hooks (register them once, e.g. keyed by id(model));
    a penalty on weights can walk model.named_parameters().
    The value is logged inside train_loss.

    Default: no regularization.
    """
    return 0.0
