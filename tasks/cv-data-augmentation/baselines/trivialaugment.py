def build_train_transform(config):
    """TrivialAugment (Mueller & Hutter, 2021): one operation drawn at random
    per image at a random magnitude (TrivialAugmentWide, no
    hyperparameters), then the standard crop and flip."""
    size = config["img_size"]
    return transforms.Compose([
        transforms.TrivialAugmentWide(),
        transforms.RandomCrop(size, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(config["mean"], config["std"]),
    ])
