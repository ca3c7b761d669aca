def build_train_transform(config):
    """Cutout (DeVries & Taylor, 2017) on the standard pipeline: after
    crop, flip and normalisation, one square patch at a uniformly random
    centre (clipped at the border) is set to 0; 16x16 on CIFAR-10, 8x8 on
    CIFAR-100 and FashionMNIST."""
    size = config["img_size"]
    length = 16 if config["dataset"] == "cifar10" else 8

    class Cutout:
        def __call__(self, img):
            h, w = img.shape[1:]
            y, x = int(torch.randint(h, ())), int(torch.randint(w, ()))
            img = img.clone()
            img[:, max(0, y - length // 2):y + length // 2,
                max(0, x - length // 2):x + length // 2] = 0
            return img

    return transforms.Compose([
        transforms.RandomCrop(size, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(config["mean"], config["std"]),
        Cutout(),
    ])
