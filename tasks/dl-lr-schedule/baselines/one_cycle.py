def get_lr(epoch, total_epochs, base_lr, config):
    """One-cycle policy (Smith & Topin, 2019) per epoch, with torch's
    OneCycleLR defaults: cosine rise from base_lr / 25 to base_lr over the
    first 30% of the epochs, then cosine fall to base_lr / 25 / 1e4."""
    start, peak = base_lr / 25, base_lr
    end = start / 1e4
    rise = max(1, round(0.3 * total_epochs))
    if epoch < rise:
        t = epoch / rise
        return peak + (start - peak) * 0.5 * (1 + math.cos(math.pi * t))
    t = (epoch - rise) / max(1, total_epochs - 1 - rise)
    return end + (peak - end) * 0.5 * (1 + math.cos(math.pi * t))
