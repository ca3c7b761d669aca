def build_train_transform(config):
    """RandAugment (Cubuk et al., 2020): N = 2 operations drawn at random per
    image, all at magnitude M = 9 (torchvision's defaults), then the
    standard crop and flip."""
    size = config["img_size"]
    return transforms.Compose([
        transforms.RandAugment(num_ops=2, magnitude=9),
        transforms.RandomCrop(size, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(config["mean"], config["std"]),
    ])
