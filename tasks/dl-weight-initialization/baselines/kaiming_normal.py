def initialize_weights(model, config):
    """Kaiming / He normal (He et al., 2015): conv and linear weights from
    N(0, 2 / fan_out), biases 0, BatchNorm weight 1 and bias 0."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
