def compute_loss(logits, targets, config):
    """Focal loss (Lin et al., ICCV 2017): cross-entropy scaled by
    (1 - p_t)^gamma, which down-weights well-classified examples; gamma = 2,
    no class-balancing alpha."""
    gamma = 2.0
    log_pt = F.log_softmax(logits, dim=1).gather(1, targets[:, None]).squeeze(1)
    pt = log_pt.exp()
    return (-(1 - pt) ** gamma * log_pt).mean()
