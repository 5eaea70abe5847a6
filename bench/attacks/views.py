"""Views: the function of the deployed model that an attack differentiates.

The deployed model always returns logits at T=1. A view wraps it so that
backends see ``logits`` (identity), ``probs`` (the deployed softmax, what the
defence paper attacked) or ``logits/T`` (Carlini's fix for saturation).
Success is never judged through a view, only on the deployed model itself.

Two views undo obfuscated gradients (Athalye, Carlini & Wagner 2018), for every
backend at once, since every backend only sees the view's ``forward``:

* **BPDA** runs each defence step forward and passes the gradient straight
  through it backward (the identity as the step's derivative);
* **EOT** returns the mean of N independent draws of a randomized model's
  output, so the gradient of any loss of it is the mean of the N draws' gradients
  (with the loss taken at the mean output).

A defended model is found by two attributes (``bench.pipeline.models.defences.Defended``):
``network``, and ``defence``, its steps in order. Any other model has no steps, so
BPDA changes nothing on it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from bench.spec.schema import ViewSpec, view_name


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


class _StraightThrough(torch.autograd.Function):
    """The step's output forward (computed outside autograd), the identity backward: BPDA's approximation."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, out: Tensor) -> Tensor:
        return out.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def defence_parts(model: nn.Module) -> tuple[nn.Module, list[nn.Module]]:
    """A defended model as (network, steps); any other model as (itself, no steps)."""
    network, steps = getattr(model, "network", None), getattr(model, "defence", None)
    if isinstance(network, nn.Module) and isinstance(steps, nn.ModuleList):
        return network, list(steps)
    return model, []


class AdaptiveView(View):
    """BPDA through the defence steps, EOT over the model's randomness, and/or logits divided by T, in that order."""

    def __init__(self, model: nn.Module, name: str, bpda: bool = False, eot: int = 1, divisor: float = 1.0) -> None:
        super().__init__(model, name)
        self.bpda, self.eot, self.divisor = bpda, eot, divisor

    def _draw(self, x: Tensor) -> Tensor:
        if not self.bpda:
            return self.model(x)
        network, steps = defence_parts(self.model)
        for step in steps:
            with torch.no_grad():
                out = step(x)
            x = _StraightThrough.apply(x, out)
        return network(x)

    def forward(self, x: Tensor) -> Tensor:
        out = self._draw(x)
        for _ in range(self.eot - 1):
            out = out + self._draw(x)
        out = out / self.eot if self.eot > 1 else out
        return out / self.divisor if self.divisor != 1.0 else out


def make_view(model: nn.Module, view: str | ViewSpec) -> View:
    """Build the view module named in an attack spec."""
    if isinstance(view, ViewSpec):
        if not view.adaptive and view.divide_logits_by is not None:
            return ScaledLogitsView(model, view_name(view), view.divide_logits_by)
        return AdaptiveView(model, view_name(view), view.bpda, view.eot or 1, view.divide_logits_by or 1.0)
    if view == "probs":
        return ProbsView(model, "probs")
    return View(model, "logits")
