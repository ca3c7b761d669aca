class CustomActivation(nn.Module):
    """SiLU / Swish (Elfwing et al., 2017; Ramachandran et al., 2017):
    x * sigmoid(x)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.silu(x)
