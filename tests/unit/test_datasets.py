"""The datasets (bench.catalogue.datasets): where a download goes, IDX files, and where MNIST's files are found."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets

from bench.catalogue.datasets import Mnist, data_roots, default_cache_root
from bench.errors import DataError
from bench.pipeline.data.bundle import load_data


class _Offline:
    """What torchvision does without a network: create <root>/MNIST/raw, write part of a file, then fail."""

    calls: list[str] = []

    def __init__(self, root: str, train: bool, download: bool) -> None:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b partial")
        self.calls.append(root)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.delenv("BENCH_OFFLINE", raising=False)
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    monkeypatch.setattr(torchvision.datasets, "MNIST", _Offline)
    _Offline.calls = []
    return _Offline


def test_a_failed_download_targets_the_data_dir_and_leaves_nothing_behind(tmp_path, offline):
    data_dir = tmp_path / "new" / "data"
    with pytest.raises(DataError, match="files not found"):
        Mnist().load(data_roots(str(data_dir), None))
    assert offline.calls == [str(data_dir)], "the folder the user named, not the user cache"
    assert not (tmp_path / "new").exists(), "the folders the failed attempt created are removed"
    assert not default_cache_root().exists(), "nothing is created in ~/.cache/bench/data"


def test_a_failed_download_keeps_folders_that_existed(tmp_path, offline):
    data_dir = tmp_path / "data"
    (data_dir / "notes").mkdir(parents=True)
    with pytest.raises(DataError):
        Mnist().load(data_roots(str(data_dir), None))
    assert sorted(p.name for p in data_dir.iterdir()) == ["notes"]


def test_without_any_folder_the_user_cache_is_the_target(offline):
    with pytest.raises(DataError):
        Mnist().load(data_roots(None, None))
    assert offline.calls == [str(default_cache_root())]
    assert not (default_cache_root() / "MNIST").exists()


def write_idx(path, arr):
    header = b"\x00\x00\x08" + bytes([arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_truncated_idx_file_is_a_data_error(tmp_path, monkeypatch):
    from bench.catalogue.datasets import Mnist

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    imgs = np.zeros((3, 28, 28))
    for name in Mnist.md5:
        write_idx(raw / name, imgs if "images" in name else np.zeros(3))
    # Contents that match their recorded md5 but are truncated must still be refused.
    monkeypatch.setattr(Mnist, "md5", {k: __import__("hashlib").md5(gzip.open(raw / k).read()).hexdigest() for k in Mnist.md5})
    with open(raw / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(gzip.compress(b"\x00\x00\x08\x03" + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 10))
    monkeypatch.setitem(
        Mnist.md5, "t10k-images-idx3-ubyte.gz", __import__("hashlib").md5(gzip.open(raw / "t10k-images-idx3-ubyte.gz").read()).hexdigest()
    )
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: truncated: expected 2352 bytes of data, found 10"):
        load_data("mnist", [tmp_path], 0, None, 2)


def test_fashion_mnist_is_found_where_debian_puts_it():
    from bench.catalogue.datasets import FashionMnist

    assert "/usr/share/datasets/fashion-mnist" in FashionMnist.extra_roots


def test_real_mnist_from_local_files():
    import os
    from pathlib import Path

    root = os.environ.get("BENCH_DATA_DIR")
    if not root or not (Path(root) / "MNIST" / "raw").is_dir():
        pytest.skip("MNIST not available under $BENCH_DATA_DIR")
    d = load_data("mnist", [Path(root)], seed=0, train_size=None, eval_size=500)
    assert (len(d.y_train), len(d.y_test), len(d.y_eval)) == (60000, 10000, 500)
    assert np.bincount(d.y_test.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert d.x_train.shape == (60000, 1, 28, 28) and float(d.x_train.max()) == 1.0
