def initialize_weights(model, config):
    """Fixup-style (Zhang et al., 2019): Kaiming normal everywhere, then in
    each of the L residual blocks the last convolution is scaled by L^(-1/2)
    and the last BatchNorm's weight set to 0, so every block starts as the
    identity. Blocks: ResNet BasicBlocks (conv2, bn2) and the MobileNetV2
    inverted residuals that add their input (project conv and BN); VGG has
    none and stays at Kaiming normal."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    blocks = []
    for module in model.modules():
        if isinstance(module, vc.BasicBlock):
            blocks.append((module.conv2, module.bn2))
        elif isinstance(module, vc.InvertedResidual) and module.use_res:
            blocks.append((module.conv[-2], module.conv[-1]))
    for conv, bn in blocks:
        conv.weight.mul_(len(blocks) ** -0.5)
        nn.init.zeros_(bn.weight)
