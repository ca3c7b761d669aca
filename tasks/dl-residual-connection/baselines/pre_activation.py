class CustomBlock(nn.Module):
    """Pre-activation block (He et al., 2016, "Identity Mappings"):
    BN-ReLU-conv3x3-BN-ReLU-conv3x3 on the branch, added to an untouched
    option-A shortcut of the input, with no ReLU after the addition."""

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = vc.OptionAShortcut(in_planes, planes)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + self.shortcut(x)
