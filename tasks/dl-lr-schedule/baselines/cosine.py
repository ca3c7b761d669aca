def get_lr(epoch, total_epochs, base_lr, config):
    """Cosine annealing (Loshchilov & Hutter, 2017) from base_lr down to 0,
    one value per epoch: base_lr * (1 + cos(pi * epoch / total_epochs)) / 2."""
    return base_lr * 0.5 * (1 + math.cos(math.pi * epoch / total_epochs))
