"""Adapters for torchattacks. torchattacks is imported only when an attack runs."""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from bench.attacks.base import Attack, AttackParams, CraftingModel

if TYPE_CHECKING:
    from torch import Tensor


def _ta() -> Any:
    import torchattacks

    return torchattacks


class _Torchattack(Attack):
    """Builds the torchattacks object per batch (cheap) and calls it."""

    @abstractmethod
    def build(self, model: CraftingModel, eps: float | None) -> Any:
        """The torchattacks object for this crafting model and budget."""

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        atk = self.build(model, eps)
        atk.set_device(model.device)
        return atk(x, y)


class TorchattacksFgsm(_Torchattack):
    """torchattacks.FGSM: one signed-gradient step of cross-entropy (Goodfellow et al. 2015)."""

    description = "FGSM, single step on cross-entropy (Linf)"

    def build(self, model: CraftingModel, eps: float | None) -> Any:
        return _ta().FGSM(model.view, eps=eps)


class PgdParams(AttackParams):
    """PGD on cross-entropy."""

    synonyms: ClassVar[dict[str, str]] = {"max_iter": "steps", "eps_step": "alpha", "step_size": "alpha"}

    steps: int = Field(40, ge=1, description="Iterations.")
    alpha: float | None = Field(None, gt=0, description="Step size; default 2.5 * eps / steps (Madry et al.).")
    random_start: bool = Field(True, description="Start from a random point in the eps-ball.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.steps


class TorchattacksPgd(_Torchattack):
    """torchattacks.PGD: iterated FGSM with projection (Madry et al. 2018)."""

    description = "PGD on cross-entropy (Linf)"
    Params = PgdParams
    ta_class = "PGD"

    def build(self, model: CraftingModel, eps: float | None) -> Any:
        p = self.params
        alpha = p.alpha or 2.5 * eps / p.steps
        return getattr(_ta(), self.ta_class)(model.view, eps=eps, alpha=alpha, steps=p.steps, random_start=p.random_start)


class TorchattacksPgdL2(TorchattacksPgd):
    """torchattacks.PGDL2: PGD in the L2 ball."""

    description = "PGD on cross-entropy (L2)"
    norms = ("l2",)
    ta_class = "PGDL2"


class CwParams(AttackParams):
    """torchattacks.CW has no binary search over c: one fixed constant."""

    synonyms: ClassVar[dict[str, str]] = {"confidence": "kappa", "learning_rate": "lr", "max_iter": "steps", "initial_const": "c"}

    c: float = Field(1.0, gt=0, description="Weight of the margin loss against the L2 term.")
    kappa: float = Field(0.0, ge=0, description="Confidence margin.")
    steps: int = Field(100, ge=1, description="Adam iterations.")
    lr: float = Field(0.01, gt=0, description="Adam learning rate.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.steps


class TorchattacksCw(_Torchattack):
    """torchattacks.CW: C&W L2 at one fixed c; weak at its defaults, not *the* C&W."""

    kind = "min_norm"
    norms = ("l2",)
    description = "C&W L2 at a fixed c (no binary search)"
    Params = CwParams

    def build(self, model: CraftingModel, eps: float | None) -> Any:
        p = self.params
        return _ta().CW(model.view, c=p.c, kappa=p.kappa, steps=p.steps, lr=p.lr)


class DeepFoolParams(AttackParams):
    """DeepFool's linearised minimal step."""

    synonyms: ClassVar[dict[str, str]] = {"max_iter": "steps", "epsilon": "overshoot"}

    steps: int = Field(50, ge=1, description="Maximum iterations.")
    overshoot: float = Field(0.02, ge=0, description="Overshoot factor.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.steps * 10


class TorchattacksDeepFool(_Torchattack):
    """torchattacks.DeepFool: iterative linearisation to the nearest boundary (L2)."""

    kind = "min_norm"
    norms = ("l2",)
    description = "DeepFool (L2, minimum norm)"
    Params = DeepFoolParams

    def build(self, model: CraftingModel, eps: float | None) -> Any:
        p = self.params
        return _ta().DeepFool(model.view, steps=p.steps, overshoot=p.overshoot)


class SquareParams(AttackParams):
    """Square Attack: score-based, gradient-free."""

    synonyms: ClassVar[dict[str, str]] = {"max_queries": "n_queries", "queries": "n_queries"}

    n_queries: int = Field(1000, ge=1, description="Query budget per sample.")
    p_init: float = Field(0.8, gt=0, le=1, description="Initial fraction of pixels changed.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.n_queries // 2


class TorchattacksSquare(_Torchattack):
    """torchattacks.Square: gradient-free random search on the margin loss (Andriushchenko et al. 2020)."""

    description = "Square Attack, gradient-free (Linf)"
    default_tag = "adaptive"
    Params = SquareParams

    def build(self, model: CraftingModel, eps: float | None) -> Any:
        p = self.params
        return _ta().Square(model.view, norm="Linf", eps=eps, n_queries=p.n_queries, p_init=p.p_init, seed=self.seed)


# torchattacks.AutoAttack's sub-attacks run at these budgets, whatever the version (torchattacks 3.5.1):
# APGD, APGD-T and FAB keep their own default of 10 steps, where the official AutoAttack runs 100.
TA_AUTOATTACK_BUDGET = "APGD-CE 10 steps, APGD-T 10 steps, FAB-T 10 steps, Square 5000 queries (official: 100, 100, 100, 5000)"


class TorchattacksAutoAttack(_Torchattack):
    """torchattacks.AutoAttack: a cross-check only, not AutoAttack; use ``aa.standard`` for the reference evaluation."""

    norms = ("linf", "l2")
    description = f"CROSS-CHECK ONLY, not the official AutoAttack: torchattacks' re-implementation, {TA_AUTOATTACK_BUDGET}"

    def build(self, model: CraftingModel, eps: float | None) -> Any:
        # Its own seed defaults to the clock: pass bench's.
        norm = {"linf": "Linf", "l2": "L2"}[self.norm]
        return _ta().AutoAttack(model.view, norm=norm, eps=eps, version="standard", n_classes=model.n_classes, seed=self.seed)
