class CustomBlock(nn.Module):
    """The residual block of every stage: x [B, in_planes, H, W] ->
    [B, planes * expansion, H / stride, W / stride]. The shortcut has to
    handle stride 2 and a change of channel count. BN, ReLU, F, nn and vc
    (vision_common: vc.OptionAShortcut) are at hand; the backbone's init
    sets Conv2d weights Kaiming-normal and BatchNorm2d to (1, 0).

    Default: the basic block of He et al. (2016): conv3x3-BN-ReLU-
    conv3x3-BN, plus an option-A shortcut (subsample, zero-pad channels),
    then ReLU.

    Blocks per stage: 3 (ResNet-20, CIFAR-10), 9 (ResNet-56, CIFAR-100),
    18 (ResNet-110, CIFAR-100; hidden).
    """

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes * self.expansion:
            self.shortcut = vc.OptionAShortcut(in_planes, planes * self.expansion)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
