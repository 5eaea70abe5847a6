"""The dataset: numpy only, no torch. ``load`` returns raw uint8 arrays; bench scales, subsets and fingerprints them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.catalogue.datasets import Dataset, Split


def _patterns(side: int) -> np.ndarray:
    """Four 0/1 patterns: horizontal stripes, vertical stripes, a diagonal band and a checkerboard."""
    i, j = np.indices((side, side))
    return np.stack([i % 2 == 0, j % 2 == 0, np.abs(i - j) <= 1, (i + j) % 2 == 0]).astype(np.float64)


def _draw(n: int, rng: np.random.Generator, side: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 4, n)
    x = 0.35 + 0.3 * _patterns(side)[y] + rng.normal(0.0, 0.25, (n, side, side))
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)[:, None], y.astype(np.int64)


class Stripes(Dataset):
    """example plug-in: 8x8 noisy stripes, bands and checkerboards in 4 classes (synthetic, always offline)."""

    name = "example-stripes"
    shape = (1, 8, 8)
    n_classes = 4
    n_train = 800
    scale = 255.0

    def load(self, roots: list[Path]) -> tuple[Split, str]:
        # Fixed seeds: the data never depend on the suite's seed, only its subsets do.
        x_train, y_train = _draw(self.n_train, np.random.default_rng(1), 8)
        x_test, y_test = _draw(200, np.random.default_rng(2), 8)
        return Split(x_train, y_train, x_test, y_test), "bench_example.data.Stripes (synthetic)"
