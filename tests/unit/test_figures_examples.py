"""The examples figure (bench.reporting.figures.examples): the saved images, their differences and the predictions."""

from __future__ import annotations

import math

import numpy as np
from helpers.figures import both_files

from bench.reporting.figures.examples import plot_examples
from bench.results.examples import Examples


def test_examples_grid_shows_the_saved_images_and_predictions(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((3, 1, 8, 8), dtype=np.float32)
    xa = np.clip(x + 0.1, 0, 1)
    ex = Examples(x=x, x_adv=xa, label=np.array([1, 2, 3]), clean_pred=np.array([1, 2, 0]), adv_pred=np.array([7, 2, 0]), eps=math.inf)
    rgb = Examples(
        x=rng.random((2, 3, 4, 4), dtype=np.float32),
        x_adv=rng.random((2, 3, 4, 4), dtype=np.float32),
        label=np.array([0, 1]),
        clean_pred=np.array([0, 1]),
        adv_pred=np.array([1, 1]),
        eps=0.3,
    )
    plot = plot_examples({"m": ("cw", ex), "rgb": ("pgd", rgb)}, "s", tmp_path)
    both_files(plot)
    assert plot.series["m|adv_pred"] == ([0, 1, 2], [7.0, 2.0, 0.0])
    assert plot.series["m|label"] == ([0, 1, 2], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(plot.images["m/clean/1"], x[1, 0])
    np.testing.assert_allclose(plot.images["m/adv/2"], xa[2, 0])
    np.testing.assert_allclose(plot.images["m/delta/0"], (xa[0] - x[0]).sum(0), atol=1e-6)
    np.testing.assert_allclose(plot.images["rgb/clean/1"], rgb.x[1].transpose(1, 2, 0))
    assert plot_examples({}, "s", tmp_path) is None
