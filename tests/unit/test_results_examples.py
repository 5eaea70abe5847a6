"""The optional examples artifact (bench.results.examples): atomic save, load, and the choice of each model's strongest attack."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.report_fixtures import clean, fixed, min_norm, records

from bench.results.examples import MAX_EXAMPLES, examples_path, load_examples, load_strongest, save_examples, strongest_attacks
from bench.results.metrics import summarize


def test_round_trip_keeps_the_first_samples_and_dtypes(tmp_path):
    x = torch.rand(12, 1, 8, 8, dtype=torch.float64)
    path = examples_path(tmp_path, "distilled__cw.0123456789abcdef.csv")
    save_examples(path, x, x * 0.5, torch.arange(12), np.arange(12), np.arange(12) + 1, None)
    assert path == tmp_path / "examples" / "distilled__cw.0123456789abcdef.npz"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    ex = load_examples(path)
    assert ex is not None and ex.x.shape == (MAX_EXAMPLES, 1, 8, 8) and ex.x.dtype == np.float32
    np.testing.assert_allclose(ex.x_adv, (x[:MAX_EXAMPLES] * 0.5).numpy(), rtol=1e-6)
    assert ex.adv_pred.tolist() == list(range(1, MAX_EXAMPLES + 1))
    assert math.isinf(ex.eps)
    save_examples(path, x[:3], x[:3], [0, 1, 2], [0, 1, 2], [0, 1, 2], 0.3)
    assert load_examples(path).eps == 0.3 and len(load_examples(path).label) == 3


def test_save_refuses_arrays_that_are_not_images(tmp_path):
    with pytest.raises(ValueError, match="N x C x H x W"):
        save_examples(tmp_path / "e.npz", np.zeros((4, 64)), np.zeros((4, 64)), [0] * 4, [0] * 4, [0] * 4, 0.1)


def test_missing_or_corrupt_files_load_as_none(tmp_path, caplog):
    assert load_examples(tmp_path / "nope.npz") is None
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with caplog.at_level(logging.WARNING):
        assert load_examples(bad) is None
    assert "unreadable examples file" in caplog.text


def _summary():
    ok = [True] * 4
    return summarize(
        records(
            clean("m", ok),
            fixed("m", "fgsm", ok, {0.1: [1, 1, 1, 0], 0.3: [1, 1, 0, 0]}),  # 50% at its largest eps (not 25% at 0.1)
            fixed("m", "pgd", ok, {0.3: [1, 1, 1, 0]}),  # 25%
            min_norm("m", "cw", ok, [0.5, 0.5, math.inf, math.inf]),  # 50% even unbounded
            fixed("n", "fgsm", ok, {0.3: [1, 1, 1, 1]}),
        )
    )


def test_strongest_is_lowest_robust_accuracy_at_the_attacks_largest_eps():
    s = _summary()
    assert strongest_attacks(s) == {"m": "pgd", "n": "fgsm"}
    assert strongest_attacks(s, available={("m", "fgsm")}) == {"m": "fgsm"}
    assert strongest_attacks(pd.DataFrame()) == {}


def test_ties_go_to_the_attack_listed_first():
    s = pd.DataFrame({"model": ["m", "m", "m"], "attack": ["b", "a", "a"], "eps": [0.3, 0.1, math.inf], "robust_accuracy": [0.0, 0.5, 0.0]})
    assert strongest_attacks(s) == {"m": "b"}
    assert strongest_attacks(s.iloc[::-1]) == {"m": "a"}


def test_load_strongest_falls_back_to_attacks_that_saved_examples(tmp_path):
    x = np.zeros((2, 1, 4, 4), np.float32)
    save_examples(examples_path(tmp_path, "m__fgsm.1.csv"), x, x, [0, 0], [0, 0], [1, 1], 0.3)
    (tmp_path / "examples" / "m__pgd.1.npz").write_bytes(b"corrupt")
    out = load_strongest(tmp_path, _summary())
    assert list(out) == ["m"] and out["m"][0] == "fgsm"
    assert load_strongest(tmp_path / "elsewhere", _summary()) == {}


def test_only_the_planned_cells_examples_are_shown(tmp_path):
    # Two variants of pgd on m: the images of the one the run did not plan must not stand for its numbers.
    x = np.zeros((2, 1, 4, 4), np.float32)
    save_examples(examples_path(tmp_path, "m__pgd.old.csv"), x, x, [0, 0], [0, 0], [1, 1], 0.3)
    assert load_strongest(tmp_path, _summary(), outputs={"m__pgd.new.csv", "m__fgsm.new.csv"}) == {}
    save_examples(examples_path(tmp_path, "m__pgd.new.csv"), x, x + 0.5, [0, 0], [0, 0], [1, 1], 0.3)
    out = load_strongest(tmp_path, _summary(), outputs={"m__pgd.new.csv"})
    assert out["m"][0] == "pgd" and float(out["m"][1].x_adv.max()) == 0.5
