class CustomBlock(nn.Module):
    """Gated residual (ReZero-style learnable scaling): the basic block's
    branch is multiplied by a learnable scalar gate before the addition;
    the gate starts at 0, so every block starts as its shortcut."""

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.gate = nn.Parameter(torch.zeros(()))
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = vc.OptionAShortcut(in_planes, planes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(self.shortcut(x) + self.gate * out)
