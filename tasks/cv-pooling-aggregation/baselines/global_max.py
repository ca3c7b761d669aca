class CustomPool(nn.Module):
    """Global max pooling: the largest activation of each channel."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return x.amax(dim=(2, 3))
