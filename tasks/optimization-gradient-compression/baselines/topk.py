class Compressor:
    """Compresses one worker's gradients before they are averaged.

    Compressor(compress_ratio=0.01): one instance per simulated worker
    (4 of them), built once before training; compress_ratio is the share
    of the gradient's information to send (0.01 = 100x compression, in
    every setting).

    compress(tensor, name) -> (compressed_tensors, ctx)
      tensor: one parameter's gradient on this worker (any shape);
      name:   the parameter's name (e.g. "layers.0.conv1.weight"), the
              key for per-parameter state such as error feedback;
      compressed_tensors: list of tensors, what would be communicated
              (its bytes are counted and printed each epoch);
      ctx:    anything local needed to decompress (not communicated).
    decompress(compressed_tensors, ctx) -> tensor of the gradient's
      shape: what the other workers rebuild. The rebuilt gradients of
      all workers are averaged and SGD (momentum 0.9, weight decay
      5e-4) steps on the average.
    Called for every parameter on every step of every worker.

    State lives on self (e.g. a dict keyed by name); the instances last
    the whole run. decompress sees only what was sent and ctx, never the
    original gradient. The log counts the bytes of compressed_tensors at
    their dtypes' sizes: int64 indices cost twice a float32 value, and
    narrower dtypes (int32, int8, bool, packed bits) cost less. The
    default sends 1% of the values and their int64 indices, about 33x
    fewer bytes than the dense gradient. torch, nn, F and math are
    imported.

    Default: top-k sparsification without error feedback: send the k =
    ratio * numel entries of largest magnitude (values and indices),
    drop the rest (the dropped mass is lost, not carried to the next
    step).
    """

    def __init__(self, compress_ratio=0.01):
        self.compress_ratio = compress_ratio

    def compress(self, tensor, name):
        flat = tensor.flatten()
        k = max(1, int(flat.numel() * self.compress_ratio))
        _, indices = flat.abs().topk(k, sorted=False)
        return [flat[indices], indices], (tensor.shape, flat.numel())

    def decompress(self, compressed_tensors, ctx):
        values, indices = compressed_tensors
        shape, numel = ctx
        flat = torch.zeros(numel, dtype=values.dtype, device=values.device)
        flat[indices] = values
        return flat.view(shape)
