"""Data for the `arrays` dataset: random .npz contents, the file, and a one-model suite that reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml


def arrays(n_train=40, n_test=20, side=8, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 1, side, side), dtype=np.uint8),
        "y_train": rng.integers(0, 3, n_train),
        "x_test": rng.integers(0, 256, (n_test, 1, side, side), dtype=np.uint8),
        "y_test": rng.integers(0, 3, n_test),
    }


def save(path: Path, **data) -> Path:
    np.savez(path, **data)
    return path


def suite_file(tmp_path: Path, data_path: str, arch: str = "tiny-mlp") -> Path:
    spec = {
        "name": "mine",
        "dataset": {"name": "arrays", "path": data_path, "eval_size": 10},
        "models": [{"id": "a", "kind": "baseline", "arch": arch, "train": {"epochs": 2, "batch_size": 16}}],
        "attacks": [{"id": "fgsm", "use": "torchattacks.fgsm", "eps": [0.1]}],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path
