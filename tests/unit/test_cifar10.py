"""CIFAR-10: the batches loader on a synthetic tree in the exact pickle format, the 20 real test images, the nets, the suite."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers.cifar10 import real_images
from PIL import Image

from bench.cli import cli
from bench.errors import DataError
from bench.pipeline.data import cifar10
from bench.pipeline.data.bundle import load_data
from bench.pipeline.models.cifar import CIFAR10_MEAN, CIFAR10_STD, PapernotCifar, ResNet18Cifar
from bench.pipeline.training.loop import augment_batch
from bench.spec.schema import AugmentSpec

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


def test_the_nets_normalise_inside_exactly_as_torchvision_does(tree):
    from torchvision import transforms

    images, _ = real_images()
    standard = transforms.Compose([transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    expected = torch.stack([standard(Image.fromarray(im)) for im in images])
    x = load_data("cifar10", [tree], seed=0, train_size=None, eval_size=20).x_test
    for net in (PapernotCifar((3, 32, 32), 10), ResNet18Cifar((3, 32, 32), 10)):
        assert torch.allclose(net.normalize(x), expected, atol=1e-6)
    # On real images, CIFAR's statistics standardise each channel to about zero mean and unit spread.
    z = expected.transpose(0, 1).flatten(1)
    assert z.mean(1).abs().max() < 0.35 and ((z.std(1) - 1).abs().max() < 0.35)


def test_both_nets_map_cifar_inputs_to_logits_and_gradients(tree):
    x = load_data("cifar10", [tree], seed=0, train_size=None, eval_size=20).x_test[:4].requires_grad_(True)
    for net, n_params in ((PapernotCifar((3, 32, 32), 10), 1_147_978), (ResNet18Cifar((3, 32, 32), 10), 11_173_962)):
        assert sum(p.numel() for p in net.parameters()) == n_params
        assert {"mean", "std"}.isdisjoint(net.state_dict()), "normalisation constants are not weights"
        out = net.eval()(x)
        assert out.shape == (4, 10)
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert grad.abs().sum() > 0


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


def test_augmentation_is_seeded_and_is_a_crop_and_a_flip():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6) + 1
    spec = AugmentSpec(crop_padding=2, flip=True)
    a = augment_batch(x, spec, torch.Generator().manual_seed(5))
    assert torch.equal(a, augment_batch(x, spec, torch.Generator().manual_seed(5))), "same seed, same crops and flips"
    assert not torch.equal(a, augment_batch(x, spec, torch.Generator().manual_seed(6)))
    for i in range(2):
        padded = torch.nn.functional.pad(x[i], (2, 2, 2, 2))
        windows = [padded[:, r : r + 6, c : c + 6] for r in range(5) for c in range(5)]
        assert any(torch.equal(a[i], w) or torch.equal(a[i], w.flip(2)) for w in windows), "a window of the padded image, maybe mirrored"
    assert torch.equal(augment_batch(x, AugmentSpec(), torch.Generator()), x)


def test_the_cifar10_suite_validates_and_prints_its_cost():
    res = CliRunner().invoke(cli, ["validate", str(ROOT / "suites" / "cifar10.yaml")])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "model distilled: student papernot-cifar, T=100, 50 epochs, augment crop_padding=4 flip=True, teacher teacher" in out
    assert "attack pgd-margin-l2: bench.pgd_margin (adaptive, fixed_eps, view logits, l2)\n  eps 0.5; on baseline, distilled" in out
    assert "attack pgd: torchattacks.pgd (naive, fixed_eps, view logits, linf)\n  eps 0.03137 (8/255); on baseline, distilled" in out
    assert re.search(r"rough cost on 2 CPU cores: training ~\d+\.\d (min|h), attacks ~\d+\.\d (min|h) \(cold\)", out)
