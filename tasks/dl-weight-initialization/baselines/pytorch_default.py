def initialize_weights(model, config):
    """Set every parameter of the freshly built network.

    model:  the whole network, every layer at PyTorch's default init
            (named_modules() / named_parameters() usable); its layers are
            nn.Conv2d (with bias only in VGG), nn.BatchNorm2d and
            nn.Linear; residual blocks are vision_common's BasicBlock
            (ResNet-56: conv1, bn1, conv2, bn2) and InvertedResidual
            (MobileNetV2, project conv + BN last in .conv);
    config: {"arch": "resnet56" | "vgg16bn" | "mobilenetv2",
             "num_classes": int, "depth": int (Conv2d + Linear layers)}.
    Returns nothing; change the parameters in place. Runs once, under
    torch.no_grad(), before training, with the run's seed; it must not
    look at the data. torch, nn, F, math and vision_common (vc) are
    imported.
    Setting networks: ResNet-56 (CIFAR-100, 56 conv + linear layers),
    VGG-16-BN (CIFAR-100; conv biases and a 3-layer classifier) and
    MobileNetV2 (FashionMNIST, hidden; depthwise convs, groups > 1).
    Dropout, pooling and activations have no parameters; BN running
    statistics are buffers, reset by the builder.

    Default: PyTorch's default initialisation (every layer's own
    reset_parameters(): Kaiming-uniform with a=sqrt(5) for conv and
    linear weights, BN weight 1 and bias 0), written out.
    """
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1 / math.sqrt(nn.init._calculate_fan_in_and_fan_out(module.weight)[0])
                nn.init.uniform_(module.bias, -bound, bound)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
