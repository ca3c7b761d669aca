def compute_regularization(model, inputs, outputs, targets, config):
    """The DropBlock idea (Ghiasi et al., 2018) as a loss: DropBlock drops
    contiguous regions because neighbouring units carry the same evidence;
    here neighbouring positions of a late feature map are penalised for
    firing together instead. A forward hook keeps the output of the last
    BatchNorm2d with at least 3x3 positions; the penalty is lam times the
    mean product of the rectified activations of horizontally and
    vertically adjacent positions; lam 1e-3. The first step, before the
    hook has seen a forward pass, adds nothing."""
    lam = 1e-3
    state = compute_regularization.__dict__.setdefault("maps", {})
    key = id(model)
    if key not in state:
        state[key] = {}

        def keep(module, args, out, store=state[key]):
            if out.dim() == 4 and min(out.shape[-2:]) >= 3:
                store["map"] = out
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.register_forward_hook(keep)
        return outputs.new_zeros(())
    a = F.relu(state[key]["map"])
    across = (a[:, :, :, 1:] * a[:, :, :, :-1]).mean()
    down = (a[:, :, 1:, :] * a[:, :, :-1, :]).mean()
    return lam * (across + down)
