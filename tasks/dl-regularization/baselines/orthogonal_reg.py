def compute_regularization(model, inputs, outputs, targets, config):
    """Orthogonal regularization (Brock et al., 2017): lam * sum over conv
    and linear weights W (as out x fan_in matrices) of ||W W^T - I||_F^2,
    which pushes each layer's filters towards an orthonormal set; lam 1e-4.
    Grouped (depthwise) convolutions are skipped."""
    lam = 1e-4
    total = outputs.new_zeros(())
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if getattr(module, "groups", 1) > 1:
                continue
            w = module.weight.flatten(1)
            gram = w @ w.t()
            eye = torch.eye(gram.shape[0], device=gram.device)
            total = total + ((gram - eye) ** 2).sum()
    return lam * total
