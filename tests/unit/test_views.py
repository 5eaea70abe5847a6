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


def test_bpda_runs_each_step_forward_and_passes_the_gradient_straight_through():
    from bench.pipeline.models.defences import defend

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    model = defend(net, '[{"bits":3,"name":"bit-depth"}]')
    x = torch.rand(6, 1, 8, 8)
    squeezed = torch.round(x * 7) / 7
    naive = make_view(model, "logits")
    bpda = make_view(model, ViewSpec(bpda=True))
    assert torch.allclose(bpda(x), net(squeezed), atol=1e-6) and torch.allclose(naive(x), bpda(x))
    xg = x.clone().requires_grad_(True)
    (g_naive,) = torch.autograd.grad(naive(xg)[:, 3].sum(), xg)
    (g_bpda,) = torch.autograd.grad(bpda(xg)[:, 3].sum(), xg)
    sg = squeezed.clone().requires_grad_(True)
    (g_net,) = torch.autograd.grad(net(sg)[:, 3].sum(), sg)
    assert torch.equal(g_naive, torch.zeros_like(x)), "as implemented: no gradient through the rounding"
    assert torch.allclose(g_bpda, g_net), "BPDA: the network's gradient at the processed input"
    assert bpda.name == "bpda"
    assert torch.equal(make_view(net, ViewSpec(bpda=True))(x), net(x)), "no defence, nothing to approximate"


def test_eot_averages_draws_and_combines_with_bpda_and_the_divisor():
    from bench.pipeline.models.defences import defend

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    model = defend(net, '[{"name":"gaussian-noise","sigma":0.5}]')
    x = torch.rand(3, 1, 8, 8)
    view = make_view(model, ViewSpec(eot=4, divide_logits_by=2))
    torch.manual_seed(7)
    got = view(x)
    torch.manual_seed(7)
    want = sum(model(x) for _ in range(4)) / 4 / 2
    assert torch.allclose(got, want, atol=1e-6)
    assert view.name == "eot4+logits/2"
    assert make_view(model, ViewSpec(bpda=True, eot=10, divide_logits_by=100)).name == "bpda+eot10+logits/100"
