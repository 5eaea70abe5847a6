"""Data without code: the ``arrays`` dataset reads ``x_train, y_train, x_test, y_test`` from one ``.npz`` file.

Images are (N, C, H, W), or (N, H, W) for one channel, either uint8 (0..255) or
float in [0, 1]; labels are integers in [0, n_classes). ``n_classes`` may be stored
in the file as a scalar; otherwise it is one more than the largest training label.
Every problem is a one-line ``DataError`` that names the array and what is wrong
with it. The file is read with ``allow_pickle=False``: no data file runs code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.catalogue.datasets import Dataset, Split
from bench.errors import DataError
from bench.registry import did_you_mean

REQUIRED = ("x_train", "y_train", "x_test", "y_test")
OPTIONAL = ("n_classes",)


def _fail(path: Path, what: str) -> DataError:
    return DataError(f"{path}: {what}")


def _images(path: Path, name: str, x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise _fail(path, f"{name}: shape {x.shape}; expected (N, C, H, W), or (N, H, W) for one channel")
    if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        raise _fail(path, f"{name}: shape {x.shape} looks channels-last; bench expects (N, C, H, W): save x.transpose(0, 3, 1, 2)")
    if len(x) == 0 or 0 in x.shape[1:]:
        raise _fail(path, f"{name}: shape {x.shape} holds no images")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise _fail(path, f"{name}: dtype {x.dtype}; expected uint8 (0..255) or float (0..1)")
    if not np.isfinite(x).all():
        raise _fail(path, f"{name}: contains NaN or inf")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise _fail(path, f"{name}: values must be in [0, 1] (found min {lo:g}, max {hi:g}); scale them, or store uint8 0..255")
    return x.astype(np.float32)


def _labels(path: Path, name: str, y: np.ndarray, n: int) -> np.ndarray:
    if y.ndim != 1 or len(y) != n:
        raise _fail(path, f"{name}: shape {y.shape}; expected ({n},), one label per image")
    if not np.issubdtype(y.dtype, np.integer):
        raise _fail(path, f"{name}: dtype {y.dtype}; labels must be integers")
    if y.min() < 0:
        raise _fail(path, f"{name}: label {int(y.min())} is negative; labels must be in [0, n_classes)")
    return y.astype(np.int64)


class Arrays(Dataset):
    """Your own data from one .npz file (dataset.path): x_train, y_train, x_test, y_test, optional n_classes."""

    name = "arrays"
    needs_path = True
    n_classes = 0  # from the file, once loaded
    scale = 255.0

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path)
        self._header: tuple[tuple[int, ...], np.dtype[Any]] | None = None

    @property
    def file(self) -> Path:
        """The .npz file."""
        if self.path is None:
            raise DataError("dataset.path: the arrays dataset needs a path to an .npz file")
        return self.path

    def _peek(self) -> tuple[tuple[int, ...], np.dtype[Any]]:
        # x_train's shape and dtype from its .npy header, without reading the data (for validate's plan).
        if self._header is None:
            try:
                with zipfile.ZipFile(self.file) as zf, zf.open("x_train.npy") as fh:
                    fmt = np.lib.format
                    reader = fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0) else fmt.read_array_header_2_0
                    shape, _, dtype = reader(fh)
            except FileNotFoundError:
                raise _fail(self.file, "no such file") from None
            except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
                raise _fail(self.file, f"not an .npz file with an x_train array ({exc})") from None
            self._header = (tuple(shape), dtype)
        return self._header

    @property
    def shape(self) -> tuple[int, int, int]:  # type: ignore[override]
        """(C, H, W) of the images in the file."""
        shape = self._peek()[0]
        return (1, *shape[1:3]) if len(shape) == 3 else tuple(shape[1:4])  # type: ignore[return-value]

    @property
    def n_train(self) -> int:  # type: ignore[override]
        """Number of training images in the file."""
        return int(self._peek()[0][0])

    def load(self, roots: list[Path]) -> tuple[Split, str]:
        path = self.file
        arrays = self._read(path)
        x_train, x_test = _images(path, "x_train", arrays["x_train"]), _images(path, "x_test", arrays["x_test"])
        if x_test.shape[1:] != x_train.shape[1:]:
            raise _fail(path, f"x_test: images of shape {x_test.shape[1:]}, but x_train's are {x_train.shape[1:]}")
        if x_test.dtype != x_train.dtype:
            raise _fail(path, f"x_test: dtype {arrays['x_test'].dtype} differs from x_train's {arrays['x_train'].dtype}")
        y_train = _labels(path, "y_train", arrays["y_train"], len(x_train))
        y_test = _labels(path, "y_test", arrays["y_test"], len(x_test))
        n_classes = self._n_classes(path, arrays.get("n_classes"), y_train)
        for name, y in (("y_train", y_train), ("y_test", y_test)):
            if y.max() >= n_classes:
                raise _fail(
                    path, f"{name}: label {int(y.max())} is out of range for {n_classes} classes (labels must be in [0, {n_classes}))"
                )
        self.n_classes = n_classes
        self.scale = 255.0 if x_train.dtype == np.uint8 else 1.0
        self._header = ((len(x_train), *x_train.shape[1:]), x_train.dtype)
        return Split(x_train, y_train, x_test, y_test), str(path)

    @staticmethod
    def _read(path: Path) -> dict[str, np.ndarray]:
        try:
            npz = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise _fail(path, "no such file") from None
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise _fail(path, f"not a readable .npz file ({str(exc)[:120]})") from None
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise _fail(path, "not an .npz archive (np.savez writes one)")
        with npz:
            names = list(npz.files)
            for name in names:
                if name not in REQUIRED + OPTIONAL:
                    raise _fail(path, f"unknown array '{name}'{did_you_mean(name.lower(), list(REQUIRED))}; expected {', '.join(REQUIRED)}")
            missing = [n for n in REQUIRED if n not in names]
            if missing:
                raise _fail(path, f"missing array '{missing[0]}' (need {', '.join(REQUIRED)})")
            out = {}
            for name in names:
                try:
                    out[name] = npz[name]
                except ValueError:
                    raise _fail(path, f"{name}: holds Python objects; bench never unpickles data (save numeric arrays)") from None
        return out

    @staticmethod
    def _n_classes(path: Path, stored: np.ndarray | None, y_train: np.ndarray) -> int:
        if stored is None:
            n = int(y_train.max()) + 1
        elif stored.shape != () or not np.issubdtype(stored.dtype, np.integer):
            raise _fail(path, f"n_classes: expected an integer scalar, found {stored.dtype} of shape {stored.shape}")
        else:
            n = int(stored)
        if n < 2:
            raise _fail(path, f"n_classes: {n}; a classifier needs at least 2 classes")
        return n
