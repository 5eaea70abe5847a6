"""Datasets as float tensors in [0, 1], with deterministic subsets and fingerprints.

Normalisation is not done here: it lives inside each model, so attacks and
eps budgets always work in pixel space.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.catalogue.datasets import open_dataset
from bench.errors import DataError


@dataclass(frozen=True)
class DataBundle:
    """What the rest of bench sees: tensors in [0,1], the eval indices and fingerprints.

    ``x_eval`` is the seeded subset that attacks run on; ``x_test`` is the whole
    test split, on which clean accuracy is measured (cheap, and far less noisy).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_eval: torch.Tensor
    y_eval: torch.Tensor
    eval_index: np.ndarray
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    shape: tuple[int, int, int]
    train_fingerprint: str
    eval_fingerprint: str
    test_fingerprint: str
    source: str

    @property
    def fingerprint(self) -> str:
        """One digest of exactly the train and eval data used."""
        return hashlib.sha256(f"{self.train_fingerprint}:{self.eval_fingerprint}".encode()).hexdigest()


def _subset(n_total: int, size: int | None, seed: int, salt: int) -> np.ndarray:
    if size is None or size >= n_total:
        return np.arange(n_total)
    rng = np.random.default_rng([seed, salt])
    return np.sort(rng.permutation(n_total)[:size])


def _fingerprint(name: str, x: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256(name.encode())
    h.update(np.ascontiguousarray(x).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()


def load_data(name: str, roots: list[Path], seed: int, train_size: int | None, eval_size: int, path: str | None = None) -> DataBundle:
    """Load a dataset (``path``: its file, for datasets that read one), take seeded subsets and fingerprint exactly the data used."""
    ds = open_dataset(name, path)
    split, source = ds.load(roots)
    tr = _subset(len(split.y_train), train_size, seed, 1)
    ev = _subset(len(split.y_test), eval_size, seed, 2)
    if eval_size > len(split.y_test):
        raise DataError(f"dataset.eval_size: {eval_size} is more than the {len(split.y_test)} test samples of {name}")

    def to_float(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / ds.scale).clamp_(0.0, 1.0)

    return DataBundle(
        name=name,
        x_train=to_float(split.x_train[tr]),
        y_train=torch.from_numpy(split.y_train[tr]),
        x_eval=to_float(split.x_test[ev]),
        y_eval=torch.from_numpy(split.y_test[ev]),
        eval_index=ev,
        x_test=to_float(split.x_test),
        y_test=torch.from_numpy(split.y_test),
        n_classes=ds.n_classes,
        shape=tuple(split.x_test.shape[1:]),  # type: ignore[arg-type]
        train_fingerprint=_fingerprint(name, split.x_train[tr], split.y_train[tr]),
        eval_fingerprint=_fingerprint(name, split.x_test[ev], split.y_test[ev]),
        test_fingerprint=_fingerprint(name, split.x_test, split.y_test),
        source=source,
    )
