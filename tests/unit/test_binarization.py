"""The binarization test (Zimmermann et al. 2022) on the smoke data: adaptive attacks pass, a naive one fails on a saturated model."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from bench.catalogue.attacks import ATTACKS
from bench.pipeline.measure.binarization import Binarized, ball_points, binarization_test, features, fit_readout
from bench.spec.schema import AttackSpec

N = 12


@pytest.fixture(scope="module")
def hot(tiny_model):
    """The tiny model with its logits x1000: a saturated softmax, as on a distilled network."""
    model = copy.deepcopy(tiny_model)
    with torch.no_grad():
        last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        last.weight *= 1000
        last.bias *= 1000
    return model.eval()


def run(model, use, params, norm, eps, digits):
    spec = AttackSpec(id="a", use=use, params=params, eps=[eps], norm=norm)
    return binarization_test(model, ATTACKS.get(use), spec, norm, eps, digits.x_eval[:N], digits.y_eval[:N], seed=0, n_inner=100)


def test_the_binarized_model_has_a_guaranteed_adversarial_example(tiny_model, digits):
    x = digits.x_eval[:1]
    gen = torch.Generator().manual_seed(0)
    inner, boundary = ball_points(x, 0.3, "linf", 100, gen)
    assert float((inner - x).abs().max()) <= 0.3 + 1e-6 and float((boundary - x).abs().max()) <= 0.3 + 1e-6
    with torch.no_grad():
        w, b, ok = fit_readout(features(tiny_model, torch.cat([x, inner])), features(tiny_model, boundary))
        model = Binarized(tiny_model, w, b, 1.0)
        assert ok
        assert (model(torch.cat([x, inner])).argmax(1) == 0).all() and int(model(boundary).argmax(1)) == 1


@pytest.mark.parametrize("which", ["plain", "hot"])
def test_adaptive_attacks_pass(which, tiny_model, hot, digits):
    model = tiny_model if which == "plain" else hot
    pgd = run(model, "bench.pgd_margin", {"steps": 20, "restarts": 3}, "linf", 0.3, digits)
    cw = run(model, "bench.cw_l2", {"binary_search_steps": 5, "max_iter": 50}, "l2", 2.0, digits)
    for r in (pgd, cw):
        assert r.n_feasible >= N // 2 and r.rate >= 0.9, r


def test_cross_entropy_pgd_fails_on_a_saturated_model(hot, digits):
    r = run(hot, "bench.pgd_margin", {"steps": 20, "restarts": 3, "loss": "ce"}, "linf", 0.3, digits)
    assert r.n_feasible >= N // 2 and r.rate < 0.5, r
