"""bench's own attacks: C&W L2 and margin PGD, and why they exist (saturated softmax)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.attacks.base import CraftingModel
from bench.attacks.losses import margin
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS
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


def _margins(model, x_adv, y):
    """max_{i!=y} Z_i - Z_y on the deployed model: how far past the boundary each point is."""
    with torch.no_grad():
        return -margin(model(x_adv), y)


def test_cw_points_clear_the_boundary_by_a_safety_margin(tiny_model, digits):
    from bench.attacks.cw import MIN_MARGIN, MIN_MARGIN_REL

    x, y = digits.x_eval[:N], digits.y_eval[:N]
    out = ATTACKS.get("bench.cw_l2")({}, "l2", seed=0)(target(tiny_model), x, y)
    with torch.no_grad():
        z = tiny_model(out.x_adv)
        broken = (z.argmax(1) != y) & (tiny_model(x).argmax(1) == y)
        need = MIN_MARGIN + MIN_MARGIN_REL * z.abs().amax(1)
    assert broken.sum() >= N // 2
    assert bool((_margins(tiny_model, out.x_adv, y)[broken] >= need[broken]).all()), "no success sits on the boundary"
    # So judging the same points again, one at a time, changes no verdict.
    with torch.no_grad():
        one_by_one = torch.cat([tiny_model(out.x_adv[i : i + 1]).argmax(1) for i in range(N)])
    assert torch.equal(one_by_one, z.argmax(1))


def test_cw_kappa_demands_that_much_confidence(tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    cw = ATTACKS.get("bench.cw_l2")
    plain = cw({}, "l2", seed=0)(target(tiny_model), x, y)
    confident = cw({"kappa": 5.0}, "l2", seed=0)(target(tiny_model), x, y)
    with torch.no_grad():
        ok = tiny_model(x).argmax(1) == y
        won = ok & (tiny_model(confident.x_adv).argmax(1) != y)
    assert won.sum() >= N // 2
    assert bool((_margins(tiny_model, confident.x_adv, y)[won] >= 5.0).all())
    both = won & (tiny_model(plain.x_adv).argmax(1) != y)
    assert float(l2(x, confident.x_adv)[both].median()) > float(l2(x, plain.x_adv)[both].median()), "confidence costs distance"


def test_cw_targeted_reaches_the_seeded_target_class(tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    attack = ATTACKS.get("bench.cw_l2")({"targeted": True}, "l2", seed=7, batch_size=N)
    out = attack(target(tiny_model), x, y)
    # The targets the attack draws: the harness seeds torch with the attack's seed, then the first batch draws them.
    torch.manual_seed(7)
    targets = (y + torch.randint(1, 10, (N,))) % 10
    with torch.no_grad():
        pred = tiny_model(out.x_adv).argmax(1)
    hit = pred == targets
    assert hit.float().mean() >= 0.8, "most samples reach their own target class"
    assert bool((targets != y).all())
    assert bool((hit | (pred == y)).all()), "a targeted attack never settles for another wrong class"


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
