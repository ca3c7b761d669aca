class CustomActivation(nn.Module):
    """GELU (Hendrycks & Gimpel, 2016): x * Phi(x), Phi the standard normal
    CDF (exact, erf-based form)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.gelu(x)
