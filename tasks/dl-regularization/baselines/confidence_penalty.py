def compute_regularization(model, inputs, outputs, targets, config):
    """Confidence penalty (Pereyra et al., 2017): subtract beta times the
    entropy of the predicted distribution, so low-entropy (over-confident)
    outputs cost more; beta = 0.1."""
    beta = 0.1
    log_p = F.log_softmax(outputs, dim=1)
    entropy = -(log_p.exp() * log_p).sum(dim=1).mean()
    return -beta * entropy
