class CustomPool(nn.Module):
    """Global pooling: [B, C, H, W] final feature map -> [B, C] features.

    Sits between the backbone and the classifier head, where global
    average pooling was: ResNet-56 (C=64, 8x8), VGG-16-BN (C=512, 1x1)
    and MobileNetV2 (C=1280, 4x4; hidden). Built with no arguments, one
    instance per network; parameters registered here are trained with
    the network (SGD, weight decay). Must keep C and accept any H, W.
    It sees features only, never labels.

    Default: global average pooling.
    """

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return x.mean(dim=(2, 3))
