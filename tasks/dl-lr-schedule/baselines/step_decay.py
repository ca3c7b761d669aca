def get_lr(epoch, total_epochs, base_lr, config):
    """The learning rate of one epoch.

    epoch:        the epoch about to run, counted from 0;
    total_epochs: the schedule's length (200 on paper, 30 quick, 4 demo);
    base_lr:      the protocol's lr (0.1; 0.025 on demo);
    config:       {"arch": "resnet20" | "resnet56" | "mobilenetv2",
                   "dataset": "cifar10" | "cifar100" | "fmnist"}.
    Returns a number >= 0. Called once before each epoch; the lr stays
    for the whole epoch (no other scheduler runs). SGD momentum 0.9 and
    weight decay 5e-4 are fixed; the weight init is Kaiming normal.
    The schedule may branch on the arch and the dataset; math is
    imported.

    Default: step decay (He et al., 2016): lr / 10 at 50% and again at
    75% of the epochs (epochs 100 and 150 of 200).
    """
    lr = base_lr

    if epoch >= int(0.5 * total_epochs):
        lr *= 0.1
    if epoch >= int(0.75 * total_epochs):
        lr *= 0.1
    return lr
