"""What an attack sees of a model (bench.attacks.views): probabilities, and logits divided by T."""

from __future__ import annotations

import torch
from helpers.attacks import N, Scaled
from torch import nn

from bench.attacks.views import make_view
from bench.spec.schema import ViewSpec


def test_probs_view_has_zero_gradients_on_a_saturated_model(tiny_model, digits):
    x = digits.x_eval[:N].clone().requires_grad_(True)
    view = make_view(Scaled(tiny_model, 1e4).eval(), "probs")
    (grad,) = torch.autograd.grad(view(x).max(1).values.sum(), x)
    assert (grad.flatten(1).abs().amax(1) == 0).float().mean().item() > 0.5


def test_logits_over_t_view_divides():
    model = nn.Linear(2, 3)
    x = torch.randn(4, 2)
    scaled = make_view(model, ViewSpec(divide_logits_by=100))
    assert torch.allclose(scaled(x), model(x) / 100)
    assert scaled.name == "logits/100"
