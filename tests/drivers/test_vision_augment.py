"""The device-resident augmentation is torchvision's, pixel for pixel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image


def reference(img_chw: torch.Tensor, top: int, left: int, flip: bool) -> torch.Tensor:
    """RandomCrop(32, padding=4) with a given offset, then (maybe) a flip,
    through torchvision.transforms.functional on a uint8 tensor."""
    padded = TF.pad(img_chw, [4, 4, 4, 4], fill=0, padding_mode="constant")
    out = TF.crop(padded, top, left, 32, 32)
    return TF.hflip(out) if flip else out


def reference_pil(img_chw: torch.Tensor, top: int, left: int, flip: bool) -> torch.Tensor:
    """The same on a PIL image, as the datasets hand it to the transforms."""
    pil = Image.fromarray(img_chw.permute(1, 2, 0).numpy().squeeze())
    out = TF.crop(TF.pad(pil, [4, 4, 4, 4], fill=0), top, left, 32, 32)
    if flip:
        out = TF.hflip(out)
    arr = torch.from_numpy(np.array(out))
    return arr.permute(2, 0, 1) if arr.ndim == 3 else arr[None]


def test_every_offset_and_flip_matches_torchvision(vc):
    g = torch.Generator().manual_seed(0)
    n = 9 * 9 * 2
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    grid = [(dy, dx, f) for dy in range(9) for dx in range(9) for f in (False, True)]
    dy = torch.tensor([a for a, _, _ in grid])
    dx = torch.tensor([b for _, b, _ in grid])
    flip = torch.tensor([c for _, _, c in grid])
    out = vc.crop_flip(images, dy, dx, flip)
    assert out.dtype == torch.uint8 and out.shape == images.shape
    for i, (a, b, c) in enumerate(grid):
        assert torch.equal(out[i], reference(images[i], a, b, c)), (a, b, c)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), channels=st.sampled_from([1, 3]))
def test_random_batches_match_torchvision_pil(vc, seed, channels):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (6, channels, 32, 32), dtype=torch.uint8, generator=g)
    dy, dx, flip = vc.sample_crop_flip(6, g, "cpu")
    out = vc.crop_flip(images, dy, dx, flip)
    for i in range(6):
        ref = reference_pil(images[i], int(dy[i]), int(dx[i]), bool(flip[i]))
        assert torch.equal(out[i], ref)


def test_padding_is_black_not_reflected(vc):
    images = torch.full((1, 3, 32, 32), 200, dtype=torch.uint8)
    out = vc.crop_flip(images, torch.tensor([0]), torch.tensor([0]), torch.tensor([False]))
    assert (out[0, :, :4, :] == 0).all() and (out[0, :, :, :4] == 0).all()
    assert (out[0, :, 4:, 4:] == 200).all()


def test_offsets_uniform_over_nine_positions_and_fair_flips(vc):
    g = torch.Generator().manual_seed(1)
    n = 90_000
    dy, dx, flip = vc.sample_crop_flip(n, g, "cpu")
    for offsets in (dy, dx):
        assert int(offsets.min()) == 0 and int(offsets.max()) == 8
        counts = torch.bincount(offsets, minlength=9).double()
        expected = n / 9
        chi2 = float(((counts - expected) ** 2 / expected).sum())
        assert chi2 < 30, counts   # 8 d.o.f.: p < 0.001 beyond 26.1
    share = flip.double().mean().item()
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / n)
    # independent coins: the joint of (dy, flip) is flat too
    joint = torch.bincount(dy * 2 + flip.long(), minlength=18).double()
    assert float(((joint - n / 18) ** 2 / (n / 18)).sum()) < 45


def test_normalizer_equals_totensor_normalize(vc):
    g = torch.Generator().manual_seed(2)
    img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=g)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    tf = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    ref = tf(Image.fromarray(img.permute(1, 2, 0).numpy()))
    ours = vc.Normalizer(mean, std, "cpu")(img[None])[0]
    assert torch.equal(ours, ref)


def test_loader_epoch_keeps_last_partial_batch_and_reshuffles(vc):
    n = 300
    images = torch.arange(n, dtype=torch.int64).view(n, 1, 1, 1).expand(n, 3, 32, 32)
    images = (images % 251 + 1).to(torch.uint8).contiguous()   # no pixel is 0
    split = vc.Split(images, torch.arange(n))
    norm = vc.Normalizer((0.0, 0.0, 0.0), (1 / 255, 1 / 255, 1 / 255), "cpu")  # x -> pixel
    loader = vc.DeviceLoader(split, 128, norm, train=True, seed=0)
    assert len(loader) == 3
    seen = []
    for x, y, coarse in loader:
        assert coarse is None
        # the centre pixel survives any crop; it identifies the image
        assert torch.equal(x[:, 0, 16, 16].round().long(), (y % 251 + 1))
        seen.append(y)
    assert [len(b) for b in seen] == [128, 128, 44]
    first = torch.cat(seen)
    assert sorted(first.tolist()) == list(range(n))
    second = torch.cat([y for _, y, _ in loader])
    assert not torch.equal(first, second)
    # 50,000 images in batches of 128: 391 steps
    assert math.ceil(50_000 / 128) == 391
    big = vc.Split(torch.zeros(50_000, 1, 1, 1, dtype=torch.uint8), torch.zeros(50_000))
    assert len(vc.DeviceLoader(big, 128, norm, train=False)) == 391


def test_loader_is_repeatable_for_a_seed(vc):
    data = vc.demo_data("cifar10", 64, 8)
    norm = vc.Normalizer(data.mean, data.std, "cpu")
    runs = []
    for _ in range(2):
        loader = vc.DeviceLoader(data.train, 32, norm, train=True, seed=7)
        runs.append([x for x, _, _ in loader])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(vc):
    g = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=g)
    dy, dx, flip = vc.sample_crop_flip(64, g, "cpu")
    cpu = vc.crop_flip(images, dy, dx, flip)
    gpu = vc.crop_flip(images.cuda(), dy.cuda(), dx.cuda(), flip.cuda()).cpu()
    assert torch.equal(cpu, gpu)
