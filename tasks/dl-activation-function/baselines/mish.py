class CustomActivation(nn.Module):
    """Mish (Misra, 2019): x * tanh(softplus(x))."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.mish(x)
