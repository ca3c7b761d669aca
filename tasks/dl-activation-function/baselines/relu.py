class CustomActivation(nn.Module):
    """Custom activation function: the drop-in replacement for ReLU.

    Used everywhere the networks would apply ReLU: twice per ResNet
    BasicBlock and after the stem convolution, after every VGG Conv-BN pair
    and in its classifier head, and at every ReLU6 of MobileNetV2.
    A fresh instance is created at each of these sites, so parameters
    registered in __init__ are learned per site (and get weight decay).
    forward(x) must return a tensor of x's shape.

    Default: ReLU, max(0, x).
    """

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.relu(x)
