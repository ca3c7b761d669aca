def compute_loss(logits, targets, config):
    """Label smoothing (Szegedy et al., 2016): cross-entropy against soft
    targets (1 - eps) * one_hot + eps / C, with eps = 0.1."""
    eps = 0.1
    log_p = F.log_softmax(logits, dim=1)
    nll = -log_p.gather(1, targets[:, None]).squeeze(1)
    uniform = -log_p.mean(dim=1)
    return ((1 - eps) * nll + eps * uniform).mean()
