"""C&W L2 (bench.attacks.cw): it succeeds, its binary search, the logit scale, the margin its points clear, kappa, targets."""

from __future__ import annotations

import torch
from helpers.attacks import N, Scaled, l2, success, target

from bench.attacks.losses import margin
from bench.catalogue.attacks import ATTACKS


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
