"""The real loaders read the datasets' on-disk formats through torchvision.

Tiny files are written here in the formats the archives unpack to:
cifar-10-batches-py/ and cifar-100-python/ (pickled dicts) and
FashionMNIST/raw/ (big-endian idx files).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


def test_cifar10_reads_pickled_batches(vt, vc, tmp_path):
    w = vt.write_cifar10(tmp_path)
    assert vc.missing_files("cifar10", str(tmp_path)) == []
    data = vc.load_real("cifar10", str(tmp_path))
    assert data.train.images.shape == (5 * vt.PER_BATCH, 3, 32, 32)
    assert data.train.images.dtype == torch.uint8
    # rows of the pickle are 1024 red, 1024 green, 1024 blue values, row-major
    assert torch.equal(data.train.images,
                       torch.from_numpy(w["train_x"].reshape(-1, 3, 32, 32)))
    assert data.train.labels.tolist() == w["train_y"]
    assert torch.equal(data.test.images, torch.from_numpy(w["test_x"].reshape(-1, 3, 32, 32)))
    assert data.test.labels.tolist() == w["test_y"]
    assert data.train.coarse is None
    assert data.mean == vc.DATASETS["cifar10"].mean


def test_cifar100_reads_fine_and_coarse_labels_from_the_files(vt, vc, tmp_path):
    w = vt.write_cifar100(tmp_path, vc)
    data = vc.load_real("cifar100", str(tmp_path), with_coarse=True)
    for split, name in ((data.train, "train"), (data.test, "test")):
        x, fine, coarse = w[name]
        assert torch.equal(split.images, torch.from_numpy(x.reshape(-1, 3, 32, 32)))
        assert split.labels.tolist() == fine
        assert split.coarse.tolist() == coarse
    # the coarse labels come from the files, not from a table: change them
    x, fine, _ = w["train"]
    vt.write_pickle(tmp_path / "cifar-100-python" / "train", {
        "filenames": [], "batch_label": "train", "fine_labels": fine,
        "coarse_labels": [7] * len(fine), "data": x})
    data = vc.load_real("cifar100", str(tmp_path), with_coarse=True)
    assert set(data.train.coarse.tolist()) == {7}


def test_fmnist_reads_idx_files_and_pads_to_32(vt, vc, tmp_path):
    w = vt.write_fmnist(tmp_path)
    data = vc.load_real("fmnist", str(tmp_path))
    images, labels = w["train"]
    assert data.train.images.shape == (len(labels), 1, 32, 32)
    assert torch.equal(data.train.images[:, 0, 2:30, 2:30], torch.from_numpy(images))
    border = data.train.images.clone()
    border[:, :, 2:30, 2:30] = 0
    assert int(border.sum()) == 0                       # 2 black pixels each side
    assert data.train.labels.tolist() == labels.tolist()
    assert data.test.images.shape == (len(w["t10k"][1]), 1, 32, 32)


@pytest.mark.parametrize("dataset, expected", [
    ("cifar10", ["cifar-10-batches-py", "data_batch_1", "test_batch", "batches.meta"]),
    ("cifar100", ["cifar-100-python", "train", "test", "meta"]),
    ("fmnist", ["FashionMNIST", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]),
])
def test_missing_data_names_the_files_and_where(vt, vc, tmp_path, dataset, expected):
    with pytest.raises(vc.DataMissing) as err:
        vc.load_real(dataset, str(tmp_path))
    message = str(err.value)
    for word in expected:
        assert word in message
    assert str(tmp_path) in message
    assert "--download" in message


def test_one_missing_file_is_named(vt, vc, tmp_path):
    vt.write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    missing = vc.missing_files("cifar10", str(tmp_path))
    assert [Path(m).name for m in missing] == ["data_batch_3"]
    with pytest.raises(vc.DataMissing, match="missing: data_batch_3"):
        vc.load_data("cifar10", "paper", str(tmp_path))


def test_load_data_subsets_and_demo_needs_no_files(vt, vc, tmp_path):
    vt.write_cifar100(tmp_path, vc)
    data = vc.load_data("cifar100", "quick", str(tmp_path), with_coarse=True,
                        train_size=5, test_size=3)
    assert len(data.train) == 5 and len(data.test) == 3 and len(data.train.coarse) == 5
    demo = vc.load_data("cifar100", "demo", str(tmp_path / "nowhere"), with_coarse=True,
                        train_size=50, test_size=20)
    assert len(demo.train) == 50 and demo.train.coarse is not None


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "fmnist"])
def test_demo_data_shapes_labels_and_determinism(vt, vc, dataset):
    info = vc.DATASETS[dataset]
    a = vc.demo_data(dataset, 300, 100)
    b = vc.demo_data(dataset, 300, 100)
    assert a.train.images.shape == (300, info.channels, 32, 32)
    assert a.train.images.dtype == torch.uint8
    assert torch.equal(a.train.images, b.train.images)
    assert torch.equal(a.test.labels, b.test.labels)
    assert sorted(set(a.train.labels.tolist())) == list(range(info.num_classes))
    assert not torch.equal(a.train.images[:100], a.test.images)
    # a smaller demo set is a prefix of a larger one, balanced in any k-prefix
    c = vc.demo_data(dataset, 700, 10)
    assert torch.equal(c.train.images[:300], a.train.images)
    assert torch.equal(c.test.labels, a.test.labels[:10])
    k = info.num_classes
    assert torch.bincount(c.train.labels[:2 * k], minlength=k).tolist() == [2] * k
    assert len(a.mean) == info.channels and all(s > 0 for s in a.std)


def test_demo_cifar100_has_the_real_hierarchy(vc):
    data = vc.demo_data("cifar100", 500, 200)
    table = torch.tensor(vc.CIFAR100_FINE_TO_COARSE)
    for split in (data.train, data.test):
        assert torch.equal(split.coarse, table[split.labels])
    # 20 superclasses of 5 classes each
    assert sorted(torch.bincount(table).tolist()) == [5] * 20
