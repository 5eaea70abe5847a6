"""The dataset registry: loaders that return raw arrays (numpy only, no torch).

Adding a dataset:

1. Subclass ``Dataset``: set ``name``, ``shape`` (C, H, W), ``n_classes``, ``n_train``,
   ``n_test`` (so `bench validate` can check sizes without loading anything) and
   ``scale`` (the value of a white pixel), and implement ``load(roots)``
   returning a ``Split`` of uint8 arrays and where they came from.
2. Register it below under its key (``DATASETS.register("my-data", MyData)``).
3. ``bench ls datasets`` lists it; ``bench.pipeline.data.bundle.load_data`` turns it into
   tensors in [0, 1] with seeded subsets and fingerprints.

A plug-in package declares the class as an entry point in the group ``bench.datasets``
instead of step 2. Data without code need no plug-in: ``dataset: {name: arrays, path: x.npz}``
(``bench.pipeline.data.arrays``).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from bench.errors import DataError
from bench.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """Raw images (N, C, H, W) and int64 labels for train and test: uint8, or float32 already in [0, 1] (scale 1)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class Dataset:
    """Base for dataset loaders: static metadata plus ``load(roots)``.

    A loader that reads one file named in the suite (``needs_path``) gets it as ``path``;
    its metadata may then depend on the file, so it is read from the instance.
    """

    name: str = ""
    shape: tuple[int, int, int] = (1, 28, 28)
    n_classes: int = 10
    n_train: int = 60000
    n_test: int = 10000
    scale: float = 255.0
    needs_path: ClassVar[bool] = False

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def load(self, roots: list[Path]) -> tuple[Split, str]:
        """Return the raw split and a human-readable description of where it came from."""
        raise NotImplementedError


def _read_idx(data: bytes) -> np.ndarray:
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(dims)):
        raise ValueError(f"truncated: expected {int(np.prod(dims))} bytes of data, found {len(data) - offset}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


class FileDataset(Dataset):
    """A dataset in a folder of files named by ``md5`` (checked against it): found in a folder, else downloaded."""

    md5: dict[str, str] = {}

    def _read(self, folder: Path) -> Split:
        raise NotImplementedError

    def _download(self, roots: list[Path]) -> Path | None:
        return None

    def _complete(self, folder: Path) -> bool:
        """Whether ``folder`` holds every file of ``md5``."""
        return all((folder / f).is_file() for f in self.md5)

    def _find(self, folders: list[Path], roots: list[Path]) -> tuple[Split, str] | None:
        """The split from the first of ``folders`` that holds every file, else from a download; None when neither has it."""
        for folder in folders:
            if self._complete(folder):
                return self._read(folder), str(folder)
        downloaded = self._download(roots)
        return None if downloaded is None else (self._read(downloaded), str(downloaded))


class IdxDataset(FileDataset):
    """MNIST-format IDX .gz files, checked against the md5 of their uncompressed bytes."""

    subdir: str = ""
    extra_roots: tuple[str, ...] = ()
    mirror_class: str = ""

    def _candidates(self, roots: list[Path]) -> list[Path]:
        folders = [r / self.subdir / "raw" for r in roots]
        folders += [Path(p) for p in self.extra_roots]
        return folders

    def load(self, roots: list[Path]) -> tuple[Split, str]:
        folders = self._candidates(roots)
        found = self._find(folders, roots)
        if found is not None:
            return found
        tried = ", ".join(str(f) for f in folders)
        raise DataError(
            f"{self.name}: files not found (need {', '.join(self.md5)}); tried {tried}; "
            f"set BENCH_DATA_DIR or --data-dir to the folder that holds {self.subdir}/raw/"
        )

    def _read(self, folder: Path) -> Split:
        arrays = {}
        for fname, md5 in self.md5.items():
            path = folder / fname
            try:
                with gzip.open(path, "rb") as fh:
                    raw = fh.read()
            except (OSError, EOFError) as exc:
                raise DataError(f"{path}: corrupt gzip file ({exc}); delete it and fetch it again") from None
            digest = hashlib.md5(raw).hexdigest()
            if digest != md5:
                raise DataError(f"{path}: checksum mismatch (md5 of contents {digest}, expected {md5}); the file is corrupt")
            try:
                arrays[fname] = _read_idx(raw)
            except ValueError as exc:
                raise DataError(f"{path}: {exc}") from None
        tr_x, tr_y, te_x, te_y = (arrays[f] for f in self.md5)
        return Split(tr_x[:, None], tr_y.astype(np.int64), te_x[:, None], te_y.astype(np.int64))

    def _download(self, roots: list[Path]) -> Path | None:
        if not roots or os.environ.get("BENCH_OFFLINE"):
            return None
        # The first folder is the one the user named (--data-dir, the spec's root, $BENCH_DATA_DIR); the user cache
        # is the target only when nothing else was given.
        target = roots[0]
        folder = target / self.subdir / "raw"
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        created = missing[-1] if missing else None  # the highest folder this attempt will create
        try:
            import torchvision.datasets as tvd

            log.info("downloading %s to %s", self.name, target)
            getattr(tvd, self.mirror_class)(root=str(target), train=True, download=True)
        except Exception as exc:  # noqa: BLE001 - any network/IO failure means "not available offline"
            log.info("download of %s failed: %s", self.name, exc)
            if created is not None:
                # Only what this attempt created, so a failed download leaves no empty or half-written folders behind.
                shutil.rmtree(created, ignore_errors=True)
            return None
        return folder if self._complete(folder) else None


class Mnist(IdxDataset):
    """LeCun's MNIST in torchvision's layout ``<root>/MNIST/raw/``."""

    name = "mnist"
    subdir = "MNIST"
    mirror_class = "MNIST"
    md5 = {
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
    }


class FashionMnist(IdxDataset):
    """Zalando's Fashion-MNIST; also found where Debian's ``dataset-fashion-mnist`` puts it."""

    name = "fashion-mnist"
    subdir = "FashionMNIST"
    mirror_class = "FashionMNIST"
    extra_roots = ("/usr/share/datasets/fashion-mnist",)
    md5 = {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    }


class Digits(Dataset):
    """scikit-learn's bundled 8x8 digits (1,797 images): always offline, for tests."""

    name = "digits"
    shape = (1, 8, 8)
    n_train = 1437
    n_test = 360
    scale = 16.0

    def load(self, roots: list[Path]) -> tuple[Split, str]:
        from sklearn.datasets import load_digits

        d = load_digits()
        x = d.images.astype(np.uint8)[:, None]
        y = d.target.astype(np.int64)
        # A fixed 80/20 split: the test part never depends on the seed.
        cut = 1437
        return Split(x[:cut], y[:cut], x[cut:], y[cut:]), "sklearn.datasets.load_digits"


DATASETS: Registry[type[Dataset]] = Registry("dataset", group="bench.datasets")
DATASETS.register("mnist", Mnist)
DATASETS.register("fashion-mnist", FashionMnist)
DATASETS.register("digits", Digits)
DATASETS.register("cifar10", "bench.pipeline.data.cifar10:Cifar10")
DATASETS.register("arrays", "bench.pipeline.data.arrays:Arrays")


def open_dataset(name: str, path: str | Path | None = None) -> Dataset:
    """An instance of the dataset registered as ``name``; ``path`` only for datasets that read one file."""
    cls = DATASETS.get(name)
    if cls.needs_path and path is None:
        raise DataError(f"dataset.path: the {name} dataset needs a path to its file")
    if not cls.needs_path and path is not None:
        raise DataError(f"dataset.path: the {name} dataset takes no path (only a dataset such as arrays reads one file)")
    return cls(Path(path)) if path is not None else cls()


def default_cache_root() -> Path:
    """The user cache folder bench downloads data to when nothing else is set."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bench" / "data"


def data_roots(cli_dir: str | None, spec_root: str | None) -> list[Path]:
    """Data folders in priority order: --data-dir, the spec's root, $BENCH_DATA_DIR, the user cache."""
    env = os.environ.get("BENCH_DATA_DIR")
    roots = [cli_dir, spec_root, env, str(default_cache_root())]
    return [Path(r).expanduser().resolve() for r in roots if r]
