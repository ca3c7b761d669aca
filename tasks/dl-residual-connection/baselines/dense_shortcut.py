class CustomBlock(nn.Module):
    """Dense shortcut (DenseNet-inspired): instead of adding, concatenate the
    option-A shortcut and the basic block's branch along channels and fuse
    the 2 * planes channels back to planes with a 1x1 conv + BN, then ReLU."""

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.fuse = nn.Conv2d(2 * planes, planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = vc.OptionAShortcut(in_planes, planes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(self.bn3(self.fuse(torch.cat([self.shortcut(x), out], dim=1))))
