"""bench's own attacks: C&W L2 and margin PGD, and why they exist (saturated softmax)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.attacks import ATTACKS
from bench.attacks.base import CraftingModel
from bench.attacks.losses import margin
from bench.attacks.views import make_view
from bench.spec.schema import ViewSpec

N = 40


class Scaled(nn.Module):
    """A model whose logits are multiplied by ``k``: what distillation at T=k does to a net."""

    def __init__(self, model: nn.Module, k: float) -> None:
        super().__init__()
        self.model, self.k = model, k

    def forward(self, x):
        return self.model(x) * self.k


def target(model, view="logits"):
    return CraftingModel(view=make_view(model, view), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))


def success(model, x, x_adv, y):
    with torch.no_grad():
        ok = model(x).argmax(1) == y
        return ((model(x_adv).argmax(1) != y) & ok).sum().item() / ok.sum().item()


def l2(x, x_adv):
    return (x_adv - x).flatten(1).norm(dim=1)


def test_margin_sign():
    z = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
    assert margin(z, torch.tensor([0, 1])).tolist() == [2.0, -3.0]


def test_cw_succeeds_on_an_undefended_model(tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    out = ATTACKS.get("bench.cw_l2")({}, "l2", seed=0)(target(tiny_model), x, y)
    assert success(tiny_model, x, out.x_adv, y) == 1.0


def test_binary_search_shrinks_the_norms(tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    cw = ATTACKS.get("bench.cw_l2")
    one = cw({"binary_search_steps": 1, "initial_const": 10.0, "max_iter": 100}, "l2", seed=0)(target(tiny_model), x, y)
    many = cw({"binary_search_steps": 7, "initial_const": 10.0, "max_iter": 100}, "l2", seed=0)(target(tiny_model), x, y)
    assert success(tiny_model, x, one.x_adv, y) == 1.0
    assert success(tiny_model, x, many.x_adv, y) == 1.0
    assert float(l2(x, many.x_adv).median()) < 0.8 * float(l2(x, one.x_adv).median())


def test_cw_is_robust_to_the_logit_scale(tiny_model, digits):
    # The same defaults must work on logits 100x larger (a distilled net at T=100).
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    big = Scaled(tiny_model, 100.0).eval()
    out = ATTACKS.get("bench.cw_l2")({}, "l2", seed=0)(target(big), x, y)
    assert success(big, x, out.x_adv, y) == 1.0


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
