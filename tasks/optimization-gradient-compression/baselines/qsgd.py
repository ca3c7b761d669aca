class Compressor:
    """QSGD (Alistarh et al., 2017): each entry is sent as its sign and a
    level in 0..s of |g| / ||g||_2, rounded stochastically so that the
    rebuilt gradient is unbiased; s = 16 levels, stored as uint8 levels,
    int8 signs and one float norm per tensor (no error feedback)."""

    def __init__(self, compress_ratio=0.01, levels=16):
        self.compress_ratio = compress_ratio
        self.levels = levels

    def compress(self, tensor, name):
        flat = tensor.flatten()
        norm = flat.norm()
        scaled = flat.abs() / norm.clamp_min(1e-12) * self.levels
        lower = scaled.floor()
        level = lower + (torch.rand_like(scaled) < scaled - lower).float()
        signs = flat.sign().to(torch.int8)
        return [norm.reshape(1), level.to(torch.uint8), signs], tensor.shape

    def decompress(self, compressed_tensors, ctx):
        norm, level, signs = compressed_tensors
        flat = norm * signs.float() * level.float() / self.levels
        return flat.view(ctx)
