"""Margin PGD (bench.attacks.pgd_margin): it works where cross-entropy's gradients vanish, its restarts, its traces."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from helpers.attacks import N, Scaled, success, target
from torch import nn

from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS


def test_margin_pgd_works_where_cross_entropy_gradients_vanish(tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    saturated = Scaled(tiny_model, 1e4).eval()
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(saturated(xg), y, reduction="sum"), xg)
    zero = (grad.flatten(1).abs().amax(1) == 0).float().mean().item()
    assert zero > 0.5, "the crafted model must mask cross-entropy gradients"
    naive = ATTACKS.get("torchattacks.pgd")({"steps": 10}, "linf", seed=0)(target(saturated), x, y, 0.3)
    adaptive = ATTACKS.get("bench.pgd_margin")({"steps": 10}, "linf", seed=0)(target(saturated), x, y, 0.3)
    undefended = ATTACKS.get("torchattacks.pgd")({"steps": 10}, "linf", seed=0)(target(tiny_model), x, y, 0.3)
    assert success(saturated, x, naive.x_adv, y) < success(tiny_model, x, undefended.x_adv, y) - 0.3
    assert success(saturated, x, adaptive.x_adv, y) >= 0.95


def test_margin_pgd_restarts_only_add_successes(tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    pgd = ATTACKS.get("bench.pgd_margin")
    # One tiny step: success hangs on the random start, so other starts find samples the first one missed.
    params = {"steps": 1, "alpha": 0.001}
    outs = {r: pgd(params | {"restarts": r}, "linf", seed=3)(target(tiny_model), x, y, 0.2) for r in (1, 8)}
    with torch.no_grad():
        wrong = {r: tiny_model(o.x_adv).argmax(1) != y for r, o in outs.items()}
    assert bool((wrong[8] >= wrong[1]).all()), "a sample broken by the first restart stays broken"
    assert wrong[8].sum() > wrong[1].sum(), "more restarts find more"


def test_pgd_traces_show_a_naive_attack_stalling_on_a_saturated_model(tiny_model, digits):
    # Logits x1000: the float32 softmax saturates as on a distilled net, so cross-entropy has no gradient.
    hot = copy.deepcopy(tiny_model)
    with torch.no_grad():
        last = [m for m in hot.modules() if isinstance(m, nn.Linear)][-1]
        last.weight *= 1000
        last.bias *= 1000
    x, y = digits.x_eval[:40], digits.y_eval[:40]
    target = CraftingModel(view=make_view(hot, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    runs = {
        loss: ATTACKS.get("bench.pgd_margin")({"steps": 10, "loss": loss}, "linf", seed=0)(target, x, y, 0.2) for loss in ("ce", "margin")
    }
    for out in runs.values():
        assert out.details["margin_trace"].shape == (40, 10) and out.details["ever_adv"].shape == (40,)
    ce, mg = (runs[k].details["margin_trace"] for k in ("ce", "margin"))
    moved = lambda t: np.median(np.abs(t[:, -1] - t[:, 0]) / np.abs(t[:, 0]))  # noqa: E731
    assert moved(ce) < 0.05 < moved(mg)
    assert runs["margin"].details["ever_adv"].mean() > runs["ce"].details["ever_adv"].mean() + 0.3
