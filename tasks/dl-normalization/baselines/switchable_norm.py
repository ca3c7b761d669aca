class CustomNorm(nn.Module):
    """Switchable Normalization (Luo et al., 2019): the mean and the variance
    are softmax-weighted mixtures of instance (per sample and channel),
    layer (per sample) and batch (per channel) statistics, with separate
    learned weights for mean and variance; batch statistics are kept as
    running averages (momentum 0.1) for evaluation; per-channel affine."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, num_features, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, num_features, 1, 1))
        self.mean_weight = nn.Parameter(torch.ones(3))
        self.var_weight = nn.Parameter(torch.ones(3))
        self.register_buffer("running_mean", torch.zeros(1, num_features, 1))
        self.register_buffer("running_var", torch.ones(1, num_features, 1))
        self.eps, self.momentum = eps, momentum

    def forward(self, x):
        n, c, h, w = x.shape
        flat = x.view(n, c, -1)
        mean_in = flat.mean(-1, keepdim=True)
        var_in = flat.var(-1, keepdim=True, unbiased=False)
        mean_ln = mean_in.mean(1, keepdim=True)
        var_ln = (var_in + mean_in ** 2).mean(1, keepdim=True) - mean_ln ** 2
        if self.training:
            mean_bn = mean_in.mean(0, keepdim=True)
            var_bn = (var_in + mean_in ** 2).mean(0, keepdim=True) - mean_bn ** 2
            with torch.no_grad():
                self.running_mean.lerp_(mean_bn, self.momentum)
                self.running_var.lerp_(var_bn, self.momentum)
        else:
            mean_bn, var_bn = self.running_mean, self.running_var
        mw = F.softmax(self.mean_weight, 0)
        vw = F.softmax(self.var_weight, 0)
        mean = mw[0] * mean_in + mw[1] * mean_ln + mw[2] * mean_bn
        var = vw[0] * var_in + vw[1] * var_ln + vw[2] * var_bn
        out = (flat - mean) / torch.sqrt(var + self.eps)
        return out.view(n, c, h, w) * self.weight + self.bias
