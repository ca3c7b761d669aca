def initialize_weights(model, config):
    """Orthogonal initialisation (Saxe et al., 2014): each conv and linear
    weight, as an out x fan_in matrix, gets orthonormal rows (or columns)
    scaled by the ReLU gain sqrt(2); biases 0, BatchNorm weight 1, bias 0."""
    gain = nn.init.calculate_gain("relu")
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(module.weight, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
