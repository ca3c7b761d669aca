class Compressor:
    """Scaled signSGD (Bernstein et al., 2018): each entry is sent as its
    sign (int8), scaled on arrival by the tensor's mean magnitude (one
    float), so the step keeps the gradient's size; no error feedback, and
    the workers' rebuilt gradients are averaged rather than majority-voted."""

    def __init__(self, compress_ratio=0.01):
        self.compress_ratio = compress_ratio

    def compress(self, tensor, name):
        scale = tensor.abs().mean().reshape(1)
        return [scale, tensor.sign().to(torch.int8)], tensor.shape

    def decompress(self, compressed_tensors, ctx):
        scale, signs = compressed_tensors
        return (scale * signs.float()).view(ctx)
