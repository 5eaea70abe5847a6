"""load_data (bench.pipeline.data.bundle): seeded subsets, and fingerprints of exactly the data used."""

from __future__ import annotations

import numpy as np
import torch

from bench.pipeline.data.bundle import load_data


def test_digits_subsets_are_seeded_and_fingerprinted():
    a = load_data("digits", [], seed=0, train_size=500, eval_size=100)
    b = load_data("digits", [], seed=0, train_size=500, eval_size=100)
    c = load_data("digits", [], seed=1, train_size=500, eval_size=100)
    assert np.array_equal(a.eval_index, b.eval_index) and a.fingerprint == b.fingerprint
    assert not np.array_equal(a.eval_index, c.eval_index) and a.fingerprint != c.fingerprint
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1 and a.x_train.dtype == torch.float32
    assert len(a.y_test) == 360 and a.test_fingerprint == c.test_fingerprint
