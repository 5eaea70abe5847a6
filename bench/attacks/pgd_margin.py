"""bench's margin-loss PGD: PGD on ``max_{i!=y} Z_i - Z_y`` instead of cross-entropy.

Cross-entropy's gradient vanishes where the float32 softmax saturates (as on a
distilled network); the margin's does not, and the sign (Linf) or normalised
(L2) step makes the attack indifferent to the logits' scale. The first
successful point of each sample is kept, so later steps cannot undo it; on a randomized
model (``keep: last``) the final iterate is, since a point that fooled one draw mid-way
need not fool the majority vote that judges it.

``loss: ce`` turns it into plain cross-entropy PGD (the naive attack), with the same
bookkeeping and the same trace: the naive-vs-adaptive loss-trace figure and the
binarization test compare the two on equal terms. Either way the attack records, per
sample, the margin at every step, whether any step was misclassified and how noisy
the margin is around the input (``bench.attacks.indicators``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from bench.attacks.base import Attack, AttackParams, CraftingModel

if TYPE_CHECKING:
    from torch import Tensor


class PgdMarginParams(AttackParams):
    """PGD on the logit margin."""

    synonyms: ClassVar[dict[str, str]] = {"max_iter": "steps", "eps_step": "alpha", "step_size": "alpha", "num_random_init": "restarts"}
    added_later: ClassVar[dict[str, object]] = {"loss": "margin", "keep": "first"}

    steps: int = Field(100, ge=1, description="Iterations per restart.")
    alpha: float | None = Field(None, gt=0, description="Step size; default 2.5 * eps / steps.")
    restarts: int = Field(1, ge=1, description="Random restarts; a sample counts if any restart succeeds.")
    random_start: bool = Field(True, description="Start from a random point in the eps-ball.")
    loss: Literal["margin", "ce"] = Field("margin", description="margin (adaptive) or ce: cross-entropy, the naive attack; tag it naive.")
    keep: Literal["first", "last"] = Field(
        "first",
        description="first: each sample's first successful point; last: a restart's final iterate, as EOT does on a randomized "
        "model, where a point that fooled one draw mid-way is luck and the vote judges the point.",
    )

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.steps * self.restarts


class PgdMargin(Attack):
    """PGD (Linf or L2) maximising the logit margin of the strongest wrong class."""

    norms = ("linf", "l2")
    default_tag = "adaptive"
    description = "PGD on the logit margin (Linf or L2); survives saturated softmax"
    Params = PgdMarginParams

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        import torch
        import torch.nn.functional as F

        from bench.attacks.indicators import noise_sensitivity
        from bench.attacks.losses import margin

        assert eps is not None
        p = self.params
        alpha = p.alpha or 2.5 * eps / p.steps
        best = x.clone()
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        trace = []  # the margin at every step of every restart
        for _ in range(p.restarts):
            adv = self._start(x, eps) if p.random_start else x.clone()
            for _ in range(p.steps):
                adv.requires_grad_(True)
                out = model.view(adv)
                m = margin(out, y)
                loss = F.cross_entropy(out, y, reduction="none") if p.loss == "ce" else -m
                (grad,) = torch.autograd.grad(loss.sum(), adv)
                with torch.no_grad():
                    trace.append(m.detach())
                    newly = (m < 0) & ~done if p.keep == "first" else torch.zeros_like(done)
                    best[newly] = adv[newly]
                    done |= newly
                    adv = self._project(x, adv + alpha * self._direction(grad), eps)
            with torch.no_grad():
                final = (-margin(model.view(adv), y) > 0) & ~done
                best[final] = adv[final]
                done |= final
                best[~done] = adv[~done]
            if done.all():
                break
        # Restarts skipped once every sample is broken repeat the last margin, so every batch has the same length.
        trace += [trace[-1]] * (p.steps * p.restarts - len(trace))
        self.record("margin_trace", torch.stack(trace, 1))
        self.record("ever_adv", done)
        # After the attack, so that it does not move the attack's random start.
        self.record("noise_rel", noise_sensitivity(model.view, x, y))
        return best.detach()

    def _direction(self, grad: Tensor) -> Tensor:
        if self.norm == "linf":
            return grad.sign()
        n = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
        return grad / n.view(-1, *[1] * (grad.dim() - 1))

    def _start(self, x: Tensor, eps: float) -> Tensor:
        import torch

        if self.norm == "linf":
            return (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
        d = torch.randn_like(x)
        d = d / d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (x.dim() - 1))
        r = torch.rand(len(x), device=x.device).view(-1, *[1] * (x.dim() - 1))
        return (x + d * r * eps).clamp(0, 1)

    def _project(self, x: Tensor, adv: Tensor, eps: float) -> Tensor:
        d = adv - x
        if self.norm == "linf":
            d = d.clamp(-eps, eps)
        else:
            n = d.flatten(1).norm(dim=1).clamp_min(1e-12)
            d = d * (eps / n).clamp(max=1).view(-1, *[1] * (x.dim() - 1))
        return (x + d).clamp(0, 1)
