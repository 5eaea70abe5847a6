"""CIFAR-10 on disk: the 20 real test images (tests/fixtures/cifar10) and batches in the exact pickle format."""

from __future__ import annotations

import hashlib
import pickle
import re
from pathlib import Path

import numpy as np
from PIL import Image

from bench.pipeline.data import cifar10

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "cifar10"
NAME = re.compile(r"cifar10_(\d+)_(\d)\.png")


def real_images() -> tuple[np.ndarray, np.ndarray]:
    """The 20 PNGs as (20, 32, 32, 3) uint8 in test-split order, and their labels from the file names."""
    files = sorted(FIXTURES.glob("cifar10_*.png"), key=lambda p: int(NAME.fullmatch(p.name)[1]))
    assert [int(NAME.fullmatch(p.name)[1]) for p in files] == list(range(20))
    images = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in files])
    return images, np.array([int(NAME.fullmatch(p.name)[2]) for p in files])


def write_batch(path: Path, images_hwc: np.ndarray, labels: np.ndarray, label: str) -> None:
    """One batch as CIFAR-10 ships it: a pickled dict; 'data' is (N, 3072) uint8, red plane, green plane, blue plane."""
    data = images_hwc.transpose(0, 3, 1, 2).reshape(len(images_hwc), -1)
    entry = {
        "batch_label": label,
        "labels": [int(v) for v in labels],
        "data": data,
        "filenames": [f"img_{i}.png" for i in range(len(data))],
    }
    path.write_bytes(pickle.dumps(entry, protocol=2))


def write_tree(root: Path) -> dict[str, str]:
    """root/cifar-10-batches-py/ with 5 tiny random train batches, the 20 real images as test_batch, and batches.meta.

    Returns the files' md5s: the synthetic files are not CIFAR-10's, so a test expects these instead of the published ones.
    """
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        write_batch(folder / f"data_batch_{i}", rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 4), f"batch {i}")
    images, labels = real_images()
    write_batch(folder / "test_batch", images, labels, "testing batch 1 of 1")
    meta = {"num_cases_per_batch": 4, "label_names": list(cifar10.CLASSES), "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in cifar10.MD5}
