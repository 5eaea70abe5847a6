"""CIFAR-10's files (bench.pipeline.data.cifar10): the loader on a synthetic tree in the exact pickle format, the 20 real images."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.cifar10 import real_images

from bench.errors import DataError
from bench.pipeline.data import cifar10
from bench.pipeline.data.bundle import load_data

ROOT = Path(__file__).resolve().parents[2]


def test_the_loader_decodes_the_real_test_images_and_labels(tree):
    d = load_data("cifar10", [tree], seed=0, train_size=None, eval_size=20)
    images, labels = real_images()
    assert d.shape == (3, 32, 32) and d.n_classes == 10 and len(d.y_train) == 20 and len(d.y_test) == 20
    assert d.y_test.tolist() == labels.tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]
    assert torch.equal(d.x_test, torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 255))
    # The first test image is a cat; its colours come out in RGB order, not BGR (red = channel 0 as in the PNG).
    assert cifar10.CLASSES[int(d.y_test[0])] == "cat"
    assert torch.equal(d.x_test[0, 0], torch.from_numpy(images[0, :, :, 0].astype(np.float32) / 255))


def test_torchvision_reads_the_same_tree_identically(tree, monkeypatch):
    import torchvision

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    ref = torchvision.datasets.CIFAR10(str(tree), train=False, download=False)
    ours = cifar10.Cifar10().load([tree])[0]
    assert np.array_equal(ours.x_test, ref.data.transpose(0, 3, 1, 2)) and ours.y_test.tolist() == ref.targets
    assert tuple(ref.classes) == cifar10.CLASSES


def test_a_corrupt_or_tampered_batch_is_refused(tree, monkeypatch):
    folder = tree / "cifar-10-batches-py"
    target = folder / "data_batch_3"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"data_batch_3: checksum mismatch \(md5 [0-9a-f]{32}, expected [0-9a-f]{32}\)"):
        load_data("cifar10", [tree], 0, None, 5)

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tree / 'PWNED'}",))

    # Even a file whose md5 was accepted cannot run code: the unpickler builds only arrays.
    target.write_bytes(pickle.dumps({"data": Evil(), "labels": []}, protocol=2))
    monkeypatch.setitem(cifar10.Cifar10.md5, "data_batch_3", hashlib.md5(target.read_bytes()).hexdigest())
    with pytest.raises(DataError, match=r"data_batch_3: not a CIFAR-10 batch \(UnpicklingError: refused global posix.system\)"):
        load_data("cifar10", [tree], 0, None, 5)
    assert not (tree / "PWNED").exists()


def test_offline_without_the_files_the_error_says_where_to_put_them(tmp_path):
    with pytest.raises(DataError) as info:
        load_data("cifar10", [tmp_path / "a", tmp_path / "b"], 0, None, 5)
    msg = str(info.value)
    assert msg.startswith("cifar10: files not found (need cifar-10-batches-py/{data_batch_1,")
    assert f"tried {tmp_path / 'a' / 'cifar-10-batches-py'}, {tmp_path / 'b' / 'cifar-10-batches-py'}" in msg
    assert f"download {cifar10.URL} and extract it into {tmp_path / 'b'} (it unpacks to cifar-10-batches-py/)" in msg
    assert "\n" not in msg


def test_the_published_checksums_are_torchvisions():
    from torchvision.datasets import CIFAR10

    assert cifar10.MD5 == {name: md5 for name, md5 in CIFAR10.train_list + CIFAR10.test_list} | {"batches.meta": CIFAR10.meta["md5"]}
