def compute_class_weights(class_counts, num_classes, config):
    """Class-balanced weights by the effective number of samples (Cui et al.,
    CVPR 2019): E_n = (1 - beta^n) / (1 - beta), weight[c] proportional to
    1 / E_n[c], normalised to sum to C; beta = 0.9999."""
    beta = 0.9999
    counts = torch.tensor(class_counts, dtype=torch.float64)
    weights = (1 - beta) / (1 - beta ** counts)
    return (weights / weights.sum() * num_classes).float()
