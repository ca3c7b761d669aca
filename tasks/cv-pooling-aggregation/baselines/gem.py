class CustomPool(nn.Module):
    """Generalized mean pooling (Radenovic et al., 2018): (mean x^p)^(1/p)
    per channel, on x clamped to eps; p is learned, starting at 3 (p = 1 is
    average pooling, p -> inf max pooling)."""

    def __init__(self, p=3.0, eps=1e-6):
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps

    def forward(self, x):
        return x.clamp(min=self.eps).pow(self.p).mean(dim=(2, 3)).pow(1.0 / self.p)
