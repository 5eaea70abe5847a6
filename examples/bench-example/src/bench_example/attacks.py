"""The attack: a subclass of bench's ``Attack`` that implements ``generate`` on one batch, and nothing else.

The harness owns eval mode, seeding, batching, projection and timing; the pipeline
judges success on the deployed model. Torch is imported inside ``generate`` so that
``bench ls attacks`` and ``bench validate`` stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from bench.attacks.base import Attack, AttackParams, CraftingModel

if TYPE_CHECKING:
    from torch import Tensor


class BimParams(AttackParams):
    """Parameters of the basic iterative method; suites set them under ``params:``."""

    steps: int = Field(10, ge=1, description="Signed-gradient steps.")

    def cost(self) -> int:
        """Forward+backward passes per sample and budget, for `bench validate`'s estimate."""
        return self.steps


class BasicIterative(Attack):
    """Kurakin et al.'s basic iterative method (iterated FGSM, no random start) on the logit margin."""

    kind = "fixed_eps"
    norms = ("linf",)
    default_tag = "adaptive"
    description = "example plug-in: basic iterative method on the logit margin (Linf)"
    Params = BimParams

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        import torch

        assert eps is not None
        steps = self.params.steps
        alpha = 2.5 * eps / steps
        adv = x.clone()
        for _ in range(steps):
            adv.requires_grad_(True)
            logits = model.view(adv)
            true = logits.gather(1, y[:, None]).squeeze(1)
            other = logits.masked_fill(torch.nn.functional.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(1)
            (grad,) = torch.autograd.grad((other - true).sum(), adv)
            with torch.no_grad():
                # Stay inside the eps-ball and [0, 1] ourselves: the contract asks a backend to need no projection.
                adv = torch.min(torch.max(adv + alpha * grad.sign(), x - eps), x + eps).clamp(0.0, 1.0)
        return adv.detach()
