class CustomNorm(nn.Module):
    """Batch-Instance Normalization (Nam & Kim, 2018): rho * BN(x) +
    (1 - rho) * IN(x), both without affine, then a per-channel affine; rho
    is learned per channel, kept in [0, 1], starting at 1 (pure BN)."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, eps=eps, affine=False)
        self.rho = nn.Parameter(torch.ones(1, num_features, 1, 1))
        self.weight = nn.Parameter(torch.ones(1, num_features, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, num_features, 1, 1))
        self.eps = eps

    def forward(self, x):
        rho = self.rho.clamp(0, 1)
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
        x_in = (x - mean) / torch.sqrt(var + self.eps)
        return (rho * self.bn(x) + (1 - rho) * x_in) * self.weight + self.bias
