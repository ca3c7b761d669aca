def compute_class_weights(class_counts, num_classes, config):
    """Inverse class frequency: weight[c] = total / (C * count[c]), so every
    class carries the same total weight in an epoch."""
    counts = torch.tensor(class_counts, dtype=torch.float32)
    return counts.sum() / (num_classes * counts)
