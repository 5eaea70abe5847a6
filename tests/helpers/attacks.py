"""Models and measures for the attack tests: a logit-scaled model, its crafting view, success rate and L2 distance."""

from __future__ import annotations

import torch
from torch import nn

from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view

N = 40  # samples each attack test attacks


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
