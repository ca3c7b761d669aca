def get_lr(epoch, total_epochs, base_lr, config):
    """Linear warmup then cosine decay (Goyal et al., 2017): the lr climbs
    linearly to base_lr over the first 2.5% of the epochs (5 of 200, at
    least one), then follows a cosine down to 0 over the rest."""
    warmup = max(1, round(0.025 * total_epochs))
    if epoch < warmup:
        return base_lr * (epoch + 1) / warmup
    progress = (epoch - warmup) / max(1, total_epochs - warmup)
    return base_lr * 0.5 * (1 + math.cos(math.pi * progress))
