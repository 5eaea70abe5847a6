"""CIFAR-10 in torchvision's ``cifar-10-batches-py`` layout, md5-checked, read without running pickled code.

The batches are Python pickles of a dict of lists and one uint8 array. bench
checks each file's md5 against the published one first, and then unpickles it
with an unpickler that can build nothing but numpy arrays, so a tampered or
substituted file can never execute code.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from bench.catalogue.datasets import FileDataset, Split
from bench.errors import DataError

log = logging.getLogger(__name__)

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
# torchvision.datasets.CIFAR10's checksums of the extracted files.
MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class _ArraysOnly(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and numpy arrays; any other global is refused."""

    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"): np.zeros(0).__reduce__()[0],
        ("numpy._core.multiarray", "_reconstruct"): np.zeros(0).__reduce__()[0],
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # Python 3 writes bytes at protocol 2 as _codecs.encode(str, "latin1").
        ("_codecs", "encode"): __import__("codecs").encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        found = self._allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        return found


def read_batch(path: Path, md5: str | None) -> dict[str, Any]:
    """One CIFAR batch file as a dict, after checking its md5 (``None`` skips the check)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    digest = hashlib.md5(raw).hexdigest()
    if md5 is not None and digest != md5:
        raise DataError(f"{path}: checksum mismatch (md5 {digest}, expected {md5}); the file is corrupt or not CIFAR-10's")
    try:
        obj = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the file is unusable
        raise DataError(f"{path}: not a CIFAR-10 batch ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: not a CIFAR-10 batch (a {type(obj).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def _images(path: Path, batch: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: 'data' must be a uint8 array of shape (N, 3072)")
    y = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if y.shape != (len(data),) or (len(y) and (y.min() < 0 or y.max() > 9)):
        raise DataError(f"{path}: 'labels' must hold one label in 0..9 per image ({len(data)} images)")
    # Each row is the red plane, then green, then blue, each 32 rows of 32 pixels: exactly (C, H, W).
    return data.reshape(-1, 3, 32, 32), y


class Cifar10(FileDataset):
    """Krizhevsky's CIFAR-10 (50,000 train / 10,000 test 32x32 RGB) in <root>/cifar-10-batches-py/."""

    name = "cifar10"
    shape = (3, 32, 32)
    n_classes = 10
    n_train = 50000
    scale = 255.0
    md5: dict[str, str] = MD5

    def load(self, roots: list[Path]) -> tuple[Split, str]:
        folders = [r / FOLDER for r in roots]
        found = self._find(folders, roots)
        if found is not None:
            return found
        tried = ", ".join(str(f) for f in folders) or "no data folder"
        where = str(roots[-1]) if roots else "a folder named by BENCH_DATA_DIR or --data-dir"
        raise DataError(
            f"cifar10: files not found (need {FOLDER}/{{{','.join(self.md5)}}}); tried {tried}; offline, download {URL} "
            f"and extract it into {where} (it unpacks to {FOLDER}/), or set BENCH_DATA_DIR or --data-dir to the folder that holds {FOLDER}/"
        )

    def _read(self, folder: Path) -> Split:
        meta = read_batch(folder / "batches.meta", self.md5["batches.meta"])
        names = tuple(n.decode() if isinstance(n, bytes) else n for n in meta.get("label_names", ()))
        if names != CLASSES:
            raise DataError(f"{folder / 'batches.meta'}: label_names {list(names)} are not CIFAR-10's")
        train = [_images(folder / f, read_batch(folder / f, self.md5[f])) for f in self.md5 if f.startswith("data_batch_")]
        x_test, y_test = _images(folder / "test_batch", read_batch(folder / "test_batch", self.md5["test_batch"]))
        x_train = np.concatenate([x for x, _ in train])
        y_train = np.concatenate([y for _, y in train])
        return Split(x_train, y_train, x_test, y_test)

    def _download(self, roots: list[Path]) -> Path | None:
        if not roots or os.environ.get("BENCH_OFFLINE"):
            return None
        target = roots[-1]
        try:
            import torchvision.datasets as tvd

            log.info("downloading cifar10 to %s", target)
            tvd.CIFAR10(root=str(target), train=True, download=True)
        except Exception as exc:  # noqa: BLE001 - any network/IO failure means "not available offline"
            log.info("download of cifar10 failed: %s", exc)
            return None
        folder = target / FOLDER
        return folder if self._complete(folder) else None
