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
