"""Views: the function of the deployed model that an attack differentiates.

The deployed model always returns logits at T=1. A view wraps it so that
backends see ``logits`` (identity), ``probs`` (the deployed softmax, what the
defence paper attacked) or ``logits/T`` (Carlini's fix for saturation).
Success is never judged through a view, only on the deployed model itself.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bench.spec.schema import ViewSpec


class View(nn.Module):
    """Wraps a deployed model; ``forward`` returns what attacks see."""

    def __init__(self, model: nn.Module, name: str) -> None:
        super().__init__()
        self.model = model
        self.name = name
        self.training = model.training  # a wrapper must not change the model's mode when toggled

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class ProbsView(View):
    """The deployed softmax at T=1 (saturates in float32 for large logits)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.model(x), dim=1)


class ScaledLogitsView(View):
    """Logits divided by a temperature, undoing the scale that distillation adds."""

    def __init__(self, model: nn.Module, name: str, divisor: float) -> None:
        super().__init__(model, name)
        self.divisor = divisor

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x) / self.divisor


def make_view(model: nn.Module, view: str | ViewSpec) -> View:
    """Build the view module named in an attack spec."""
    if isinstance(view, ViewSpec):
        return ScaledLogitsView(model, f"logits/{view.divide_logits_by:g}", view.divide_logits_by)
    if view == "probs":
        return ProbsView(model, "probs")
    return View(model, "logits")
