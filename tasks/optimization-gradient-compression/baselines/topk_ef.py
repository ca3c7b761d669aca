class Compressor:
    """Top-k sparsification with error feedback: each step compresses the
    gradient plus the residual this worker failed to send before, sends the
    k = ratio * numel entries of largest magnitude (values and indices) and
    keeps the rest as the new residual, so nothing is lost, only delayed."""

    def __init__(self, compress_ratio=0.01):
        self.compress_ratio = compress_ratio
        self.residuals = {}

    def compress(self, tensor, name):
        flat = tensor.flatten() + self.residuals.get(name, 0)
        k = max(1, int(flat.numel() * self.compress_ratio))
        _, indices = flat.abs().topk(k, sorted=False)
        values = flat[indices]
        residual = flat.clone()
        residual[indices] = 0
        self.residuals[name] = residual
        return [values, indices], (tensor.shape, flat.numel())

    def decompress(self, compressed_tensors, ctx):
        values, indices = compressed_tensors
        shape, numel = ctx
        flat = torch.zeros(numel, dtype=values.dtype, device=values.device)
        flat[indices] = values
        return flat.view(shape)
