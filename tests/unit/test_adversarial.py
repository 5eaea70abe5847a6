"""Adversarial training (bench.pipeline.training.adversarial): its attack, that it works, that plain training never reaches it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS
from bench.pipeline.models.networks import build_model
from bench.pipeline.training import fit
from bench.pipeline.training.adversarial import perturb
from bench.spec.schema import AdversarialSpec, TrainSpec

SMOKE = yaml.safe_load((Path(__file__).resolve().parents[2] / "suites" / "smoke.yaml").read_text())


TRAINING_ATTACKS = [AdversarialSpec(eps=0.2), AdversarialSpec(method="pgd", eps=0.2, steps=3), AdversarialSpec(eps=1.0, norm="l2")]


@pytest.mark.parametrize("spec", TRAINING_ATTACKS)
def test_the_training_attack_stays_in_the_ball_and_the_box_is_seeded_and_leaves_the_model_alone(digits, tiny_model, spec):
    x, y = digits.x_eval[:32], digits.y_eval[:32]
    tiny_model.train()
    grads = [None if p.grad is None else p.grad.clone() for p in tiny_model.parameters()]
    a = perturb(tiny_model, x, y, spec, torch.Generator().manual_seed(0))
    assert tiny_model.training  # the mode it had, restored
    assert all((g is None and p.grad is None) or torch.equal(g, p.grad) for g, p in zip(grads, tiny_model.parameters(), strict=True))
    tiny_model.eval()
    delta = (a - x).flatten(1)
    size = delta.abs().amax(1) if spec.norm == "linf" else delta.norm(dim=1)
    assert float(size.max()) <= spec.eps + 1e-5 and float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, perturb(tiny_model, x, y, spec, torch.Generator().manual_seed(0)))
    assert not torch.equal(a, perturb(tiny_model, x, y, spec, torch.Generator().manual_seed(1)))


def pgd_accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> float:
    """Robust accuracy under bench's strongest PGD (20 steps on the logit margin), through the attack contract."""
    crafting = CraftingModel(view=make_view(model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    out = ATTACKS.get("bench.pgd_margin")({"steps": 20}, "linf", seed=0)(crafting, x, y, eps)
    with torch.no_grad():
        return float((model(out.x_adv).argmax(1) == y).float().mean())


def test_adversarial_training_makes_a_tiny_net_more_robust_under_pgd_than_plain_training(digits):
    x, y = digits.x_eval, digits.y_eval
    nets = {}
    for name, adv in [("plain", None), ("fgsm-rs", AdversarialSpec(eps=0.2))]:
        torch.manual_seed(0)
        net = build_model("tiny-mlp", digits.shape, digits.n_classes)
        nets[name] = fit(net, digits.x_train, digits.y_train, TrainSpec(epochs=15, batch_size=64, lr=0.01, adversarial=adv), seed=0)
    torch.manual_seed(0)
    again = build_model("tiny-mlp", digits.shape, digits.n_classes)
    fit(again, digits.x_train, digits.y_train, TrainSpec(epochs=15, batch_size=64, lr=0.01, adversarial=AdversarialSpec(eps=0.2)), seed=0)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), nets["fgsm-rs"].state_dict().values(), strict=True))

    torch.manual_seed(0)
    plain, robust = pgd_accuracy(nets["plain"], x, y, 0.2), pgd_accuracy(nets["fgsm-rs"], x, y, 0.2)
    with torch.no_grad():
        clean = float((nets["fgsm-rs"](x).argmax(1) == y).float().mean())
    assert plain < 0.15, plain  # a plainly trained net falls under PGD at 0.2 ...
    assert robust > plain + 0.2, (robust, plain)  # ... the adversarially trained one keeps a good part
    assert clean > 0.7, clean  # and it still classifies clean inputs


def test_a_plain_model_never_reaches_adversarial_training(digits, monkeypatch):
    # That is why a plain model's key does not cover the adversarial module: editing it cannot change a plain model.
    from bench.pipeline.training import adversarial

    def refuse(*args, **kwargs):
        raise AssertionError("plain training called into adversarial training")

    monkeypatch.setattr(adversarial, "batch_loss", refuse)
    monkeypatch.setattr(adversarial, "perturb", refuse)
    torch.manual_seed(0)
    net = build_model("tiny-mlp", digits.shape, digits.n_classes)
    fit(net, digits.x_train, digits.y_train, TrainSpec(epochs=1, batch_size=64, lr=0.01), seed=0)
    with pytest.raises(AssertionError, match="called into adversarial"):
        fit(
            net,
            digits.x_train,
            digits.y_train,
            TrainSpec(epochs=1, batch_size=64, lr=0.01, adversarial={"method": "fgsm-rs", "eps": 0.1}),
            0,
        )
