"""A download goes where the user pointed, and a failed one leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
import torchvision.datasets

from bench.catalogue.datasets import Mnist, data_roots, default_cache_root
from bench.errors import DataError


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
