def build_train_transform(config):
    """The per-image training pipeline.

    config: {"img_size": 32, "mean": tuple, "std": tuple (per channel:
             3 for CIFAR, 1 for FashionMNIST),
             "dataset": "cifar10" | "cifar100" | "fmnist"}.
    Returns a transforms.Compose that takes one PIL image (RGB, or mode
    "L" for FashionMNIST) and returns a float tensor [C, 32, 32]; it
    must contain transforms.ToTensor() and
    transforms.Normalize(config["mean"], config["std"]). Called once;
    the pipeline then runs on every training image of every epoch.
    PIL-only transforms go before ToTensor, tensor ones (e.g.
    RandomErasing) after it. Custom transform classes must be defined
    inside this function. Batch-mixing methods (MixUp, CutMix) cannot
    work: the training loop is fixed. torchvision.transforms is
    imported as transforms.

    Settings: ResNet-20 / CIFAR-10, ResNet-56 / CIFAR-100, MobileNetV2 /
    FashionMNIST (hidden); a policy may branch on config["dataset"].

    Default: the standard CIFAR pipeline, RandomCrop(32, padding=4) +
    RandomHorizontalFlip.
    """
    size = config["img_size"]
    return transforms.Compose([
        transforms.RandomCrop(size, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(config["mean"], config["std"]),
    ])
