class MultiTaskLoss(nn.Module):
    """Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018).

    Every task i has a learnable log-variance s_i = log(sigma_i^2), trained
    with the network:
        L = sum_i exp(-s_i) * L_i + s_i
    A task whose loss stays large gets a larger variance and a smaller
    weight; the + s_i term keeps the variances from growing without bound.
    The combined loss becomes negative once the s_i drop below 0.
    """

    def __init__(self, num_tasks=2):
        super().__init__()
        self.num_tasks = num_tasks
        self.log_vars = nn.Parameter(torch.zeros(num_tasks))

    def forward(self, fine_loss, coarse_loss, epoch, total_epochs):
        losses = torch.stack([fine_loss, coarse_loss])
        return (torch.exp(-self.log_vars) * losses + self.log_vars).sum()
