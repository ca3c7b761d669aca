class MultiTaskLoss(nn.Module):
    """Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019), T = 2.

    The weight of task k in epoch t follows how fast its loss fell over the
    two previous epochs:
        r_k = L_k(t-1) / L_k(t-2),
        w_k(t) = K * exp(r_k / T) / sum_i exp(r_i / T),
    where L_k is task k's loss averaged over an epoch and K = 2 tasks;
    w_k = 1 in the first two epochs. The per-epoch averages are collected
    here from the batches' losses (kept on the device: no host sync).
    """

    def __init__(self, num_tasks=2, temperature=2.0):
        super().__init__()
        self.num_tasks = num_tasks
        self.temperature = temperature
        self.epoch = None      # the epoch whose batch losses are being summed
        self.sums = None       # per task: sum of this epoch's batch losses
        self.count = 0
        self.history = []      # per-epoch average losses, oldest first
        self.weights = None

    def forward(self, fine_loss, coarse_loss, epoch, total_epochs):
        losses = torch.stack([fine_loss, coarse_loss])
        if epoch != self.epoch:            # a new epoch: close the last one
            if self.count:
                self.history.append(self.sums / self.count)
            self.epoch, self.count = epoch, 0
            self.sums = torch.zeros_like(losses.detach())
            if len(self.history) >= 2:
                rates = self.history[-1] / self.history[-2]
                self.weights = self.num_tasks * torch.softmax(rates / self.temperature, 0)
            else:
                self.weights = torch.ones_like(self.sums)
        self.sums += losses.detach()
        self.count += 1
        return (self.weights * losses).sum()
