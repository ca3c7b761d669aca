class MultiTaskLoss(nn.Module):
    """PCGrad, gradient surgery (Yu et al., NeurIPS 2020).

    Uses the training loop's gradient hook: for the shared backbone, the
    per-task gradients g_i are computed separately; where two conflict
    (g_i . g_j < 0), g_i is projected onto the normal plane of g_j,
        g_i <- g_i - (g_i . g_j) / |g_j|^2 * g_j,
    and the projected gradients are summed. The heads get their own task's
    gradient (done by the loop). forward returns the plain sum for the log.
    With two tasks the order in which the other tasks are visited (random
    in the paper) does not matter.
    """

    def __init__(self, num_tasks=2):
        super().__init__()
        self.num_tasks = num_tasks

    def forward(self, fine_loss, coarse_loss, epoch, total_epochs):
        return fine_loss + coarse_loss

    def backward(self, task_losses, shared_params):
        grads = []
        for loss in task_losses:
            g = torch.autograd.grad(loss, shared_params, retain_graph=True)
            grads.append(torch.cat([x.reshape(-1) for x in g]))
        total = torch.zeros_like(grads[0])
        for i, g_i in enumerate(grads):
            g = g_i.clone()
            for j, g_j in enumerate(grads):
                if j != i:
                    dot = torch.dot(g, g_j)
                    # only when they conflict (no host sync: clamp instead of if)
                    g = g - dot.clamp(max=0) / (g_j.dot(g_j) + 1e-20) * g_j
            total += g
        offset = 0
        for p in shared_params:
            p.grad = total[offset:offset + p.numel()].view_as(p).clone()
            offset += p.numel()
