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
