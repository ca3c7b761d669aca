"""The networks are the published architectures, with the activation at
every site and a fresh instance per site."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torchvision


class Probe(nn.Module):
    """An activation that counts its calls (ReLU otherwise)."""
    calls = 0

    def forward(self, x):
        Probe.calls += 1
        return torch.relu(x)


# Parameter counts: ResNet-20/56 with option-A shortcuts (He et al. 2016;
# 0.27M / 0.85M), VGG-16-BN CIFAR variant (chenyaofo/pytorch-cifar-models:
# 15.25M on CIFAR-10, 15.30M on CIFAR-100).
@pytest.mark.parametrize("arch, classes, expected", [
    ("resnet20", 10, 269_722),
    ("resnet56", 10, 853_018),
    ("resnet20", 100, 275_572),
    ("resnet56", 100, 858_868),
    ("vgg16bn", 10, 15_253_578),
    ("vgg16bn", 100, 15_299_748),
    # two heads: + 64*20+20 (ResNet) or 512*20+20 (VGG) for the coarse head
    ("resnet20", (100, 20), 275_572 + 1_300),
    ("resnet56", (100, 20), 858_868 + 1_300),
    ("vgg16bn", (100, 20), 15_299_748 + 10_260),
])
def test_parameter_counts(vc, arch, classes, expected):
    assert vc.count_params(vc.build_model(arch, classes)) == expected


def test_resnet_sizes_round_to_the_published_figures(vc):
    assert round(vc.count_params(vc.build_model("resnet20", 10)) / 1e6, 2) == 0.27
    assert round(vc.count_params(vc.build_model("resnet56", 10)) / 1e6, 2) == 0.85


def test_mobilenetv2_is_torchvisions_layer_for_layer(vc):
    ours = vc.build_model("mobilenetv2", 10, nn.ReLU6, in_channels=3)
    ref = torchvision.models.mobilenet_v2(num_classes=10)
    assert [p.shape for p in ours.parameters()] == [p.shape for p in ref.parameters()]
    assert vc.count_params(ours) == vc.count_params(ref) == 2_236_682
    relu6 = sum(isinstance(m, nn.ReLU6) for m in ref.modules())
    assert sum(isinstance(m, nn.ReLU6) for m in ours.modules()) == relu6 == 35
    # FashionMNIST: one input channel (32*2*9 fewer weights in the stem)
    gray = vc.build_model("mobilenetv2", 10, in_channels=1)
    assert vc.count_params(gray) == 2_236_682 - 32 * 2 * 9
    out = gray.eval()(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 10)
    # stride 8 overall on 32x32 inputs (stem and first 24-channel block at stride 1)
    assert gray.features(torch.zeros(1, 1, 32, 32)).shape == (1, 1280, 4, 4)


@pytest.mark.parametrize("arch, in_ch, sites", [
    ("resnet20", 3, 1 + 2 * 9),      # stem + 2 per BasicBlock
    ("resnet56", 3, 1 + 2 * 27),
    ("vgg16bn", 3, 13 + 2),          # 13 conv-BN pairs + 2 in the classifier
    ("mobilenetv2", 1, 35),          # every ReLU6 of torchvision's MobileNetV2
])
def test_activation_everywhere_fresh_instance_per_site(vc, arch, in_ch, sites):
    model = vc.build_model(arch, 10, act=Probe, in_channels=in_ch)
    probes = [m for m in model.modules() if isinstance(m, Probe)]
    assert len(probes) == sites
    assert len({id(p) for p in probes}) == sites
    assert not any(isinstance(m, (nn.ReLU, nn.ReLU6)) for m in model.modules())
    Probe.calls = 0
    model.eval()(torch.randn(2, in_ch, 32, 32))
    assert Probe.calls == sites          # each site used once per forward, no F.relu


def test_learnable_activation_parameters_are_per_site(vc):
    class PReLULike(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(torch.tensor(0.25))

        def forward(self, x):
            return torch.where(x >= 0, x, self.a * x)

    model = vc.build_model("resnet20", 10, act=PReLULike)
    assert vc.count_params(model) == 269_722 + 19


@pytest.mark.parametrize("arch", ["resnet20", "resnet56", "vgg16bn"])
def test_two_heads_return_fine_and_coarse_logits(vc, arch):
    model = vc.build_model(arch, (100, 20)).eval()
    fine, coarse = model(torch.randn(3, 3, 32, 32))
    assert fine.shape == (3, 100) and coarse.shape == (3, 20)
    heads = vc.head_modules(model)
    assert [h.out_features for h in heads] == [100, 20]


def test_option_a_shortcut_pads_channels_with_zeros(vc):
    sc = vc.OptionAShortcut(16, 32)
    x = torch.randn(2, 16, 8, 8)
    y = sc(x)
    assert y.shape == (2, 32, 4, 4)
    assert torch.equal(y[:, 8:24], x[:, :, ::2, ::2])
    assert (y[:, :8] == 0).all() and (y[:, 24:] == 0).all()


def test_only_demo_vgg_gets_the_lighter_classifier(vc):
    def classifier_state(model):
        drops = [m.p for m in model.modules() if isinstance(m, nn.Dropout)]
        stds = [round(float(m.weight.detach().std()), 3) for m in model.modules() if isinstance(m, nn.Linear)]
        return drops, stds

    torch.manual_seed(0)
    paper = vc.fit_to_profile(vc.build_model("vgg16bn", (100, 20)), "paper")
    assert classifier_state(paper) == ([0.5, 0.5], [0.01, 0.01, 0.01, 0.01])  # as published
    demo = vc.fit_to_profile(vc.build_model("vgg16bn", (100, 20)), "demo")
    drops, stds = classifier_state(demo)
    assert drops == [0.0, 0.0] and min(stds) > 0.02  # PyTorch's default: U(+-1/sqrt(512)), std 0.026
    assert vc.count_params(demo) == vc.count_params(paper)
    resnet = vc.build_model("resnet20", 10)
    before = [p.clone() for p in resnet.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, vc.fit_to_profile(resnet, "demo").parameters()))
