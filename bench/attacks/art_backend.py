"""Adapters for the Adversarial Robustness Toolbox. ART is imported only when an attack runs.

ART works on numpy arrays through a ``PyTorchClassifier``, built once per
crafting model (model x view) and shared by every ART attack on it.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from bench.attacks.base import Attack, AttackParams, CraftingModel

if TYPE_CHECKING:
    from torch import Tensor

ART_NORMS = {"linf": math.inf, "l2": 2}


def art_classifier(model: CraftingModel, cast: bool = False) -> Any:
    """The crafting model's ART classifier (cross-entropy loss on the view's output, clip (0,1)).

    ``cast``: the network sees float32 whatever ART feeds it (HopSkipJump queries with float64 arrays).
    """

    def build() -> Any:
        from art.estimators.classification import PyTorchClassifier
        from torch import nn

        class Float32(nn.Module):
            def __init__(self, inner: nn.Module) -> None:
                super().__init__()
                self.inner = inner
                self.training = inner.training

            def forward(self, x: Any) -> Any:
                return self.inner(x.float())

        return PyTorchClassifier(
            model=Float32(model.view) if cast else model.view,
            loss=nn.CrossEntropyLoss(),
            input_shape=model.input_shape,
            nb_classes=model.n_classes,
            clip_values=(0.0, 1.0),
            device_type="gpu" if model.device.type == "cuda" else "cpu",
        )

    return model.memo("art-float32" if cast else "art", build)


class _ArtAttack(Attack):
    """Builds the ART attack per batch and converts to and from numpy."""

    pass_labels = True
    cast = False  # see art_classifier

    @abstractmethod
    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        """The ART attack object for this classifier, budget and batch size."""

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        import numpy as np
        import torch

        clf = art_classifier(model, self.cast)
        atk = self.build(clf, eps, len(x))
        xn = x.detach().cpu().numpy()
        labels = np.eye(model.n_classes, dtype=np.float32)[y.cpu().numpy()] if self.pass_labels else None
        out = atk.generate(xn, y=labels)
        return torch.from_numpy(np.asarray(out, dtype=np.float32)).to(x.device)


class ArtFgsm(_ArtAttack):
    """ART FastGradientMethod on cross-entropy of the view, true labels."""

    norms = ("linf", "l2")
    description = "FGSM, single step on cross-entropy (Linf or L2)"

    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        from art.attacks.evasion import FastGradientMethod

        return FastGradientMethod(classifier, norm=ART_NORMS[self.norm], eps=eps, eps_step=eps, batch_size=n)


class PgdParams(AttackParams):
    """ART ProjectedGradientDescent."""

    synonyms: ClassVar[dict[str, str]] = {"steps": "max_iter", "alpha": "eps_step", "step_size": "eps_step", "restarts": "num_random_init"}

    max_iter: int = Field(40, ge=1, description="Iterations.")
    eps_step: float | None = Field(None, gt=0, description="Step size; default 2.5 * eps / max_iter.")
    num_random_init: int = Field(1, ge=0, description="Random restarts (0: start at the input).")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.max_iter * max(self.num_random_init, 1)


class ArtPgd(_ArtAttack):
    """ART ProjectedGradientDescent on cross-entropy of the view."""

    norms = ("linf", "l2")
    description = "PGD on cross-entropy (Linf or L2)"
    Params = PgdParams

    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        from art.attacks.evasion import ProjectedGradientDescent

        p = self.params
        step = p.eps_step or 2.5 * eps / p.max_iter
        return ProjectedGradientDescent(
            classifier,
            norm=ART_NORMS[self.norm],
            eps=eps,
            eps_step=step,
            max_iter=p.max_iter,
            num_random_init=p.num_random_init,
            batch_size=n,
            verbose=False,
        )


class JsmaParams(AttackParams):
    """ART SaliencyMapMethod (Papernot et al. 2016), random target classes."""

    theta: float = Field(1.0, description="Change applied to each chosen feature.")
    gamma: float = Field(0.1, gt=0, le=1, description="Maximum fraction of features changed.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return 200


class ArtJsma(_ArtAttack):
    """ART JSMA: saliency-map L0 attack towards a random (seeded) target class."""

    kind = "min_norm"
    norms = ("l0",)
    description = "JSMA (L0, random target), Papernot et al. 2016"
    Params = JsmaParams
    pass_labels = False

    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        from art.attacks.evasion import SaliencyMapMethod

        return SaliencyMapMethod(classifier, theta=self.params.theta, gamma=self.params.gamma, batch_size=n, verbose=False)


class CwL2Params(AttackParams):
    """ART CarliniL2Method; its default of 10 iterations is too few."""

    synonyms: ClassVar[dict[str, str]] = {"kappa": "confidence", "lr": "learning_rate", "c": "initial_const", "steps": "max_iter"}

    confidence: float = Field(0.0, ge=0, description="kappa, the margin required.")
    learning_rate: float = Field(0.01, gt=0, description="Adam-like step size.")
    binary_search_steps: int = Field(9, ge=1, description="Binary-search steps over c.")
    max_iter: int = Field(100, ge=1, description="Iterations per binary-search step.")
    initial_const: float = Field(1e-3, gt=0, description="Initial c.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.binary_search_steps * self.max_iter


class ArtCwL2(_ArtAttack):
    """ART CarliniL2Method: correct but slow."""

    kind = "min_norm"
    norms = ("l2",)
    default_tag = "adaptive"
    description = "C&W L2 with binary search over c (slow)"
    Params = CwL2Params

    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        from art.attacks.evasion import CarliniL2Method

        p = self.params
        return CarliniL2Method(
            classifier,
            confidence=p.confidence,
            learning_rate=p.learning_rate,
            binary_search_steps=p.binary_search_steps,
            max_iter=p.max_iter,
            initial_const=p.initial_const,
            batch_size=n,
            verbose=False,
        )


class DeepFoolParams(AttackParams):
    """ART DeepFool."""

    synonyms: ClassVar[dict[str, str]] = {"steps": "max_iter", "overshoot": "epsilon"}

    max_iter: int = Field(50, ge=1, description="Maximum iterations.")
    epsilon: float = Field(0.02, ge=0, description="Overshoot.")
    nb_grads: int = Field(10, ge=1, description="Number of class gradients considered.")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.max_iter * self.nb_grads


class ArtDeepFool(_ArtAttack):
    """ART DeepFool (L2, minimum norm)."""

    kind = "min_norm"
    norms = ("l2",)
    description = "DeepFool (L2, minimum norm)"
    Params = DeepFoolParams
    pass_labels = False

    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        from art.attacks.evasion import DeepFool

        p = self.params
        return DeepFool(classifier, max_iter=p.max_iter, epsilon=p.epsilon, nb_grads=p.nb_grads, batch_size=n, verbose=False)


class HopSkipJumpParams(AttackParams):
    """ART HopSkipJump (Chen, Jordan, Wainwright 2020), with a budget cut for <= 100 samples on a CPU.

    ART's defaults (50 iterations, up to 10,000 queries per gradient estimate) take minutes per
    sample on 2 CPU cores; these take about a second on MNIST and still find most boundaries.
    """

    synonyms: ClassVar[dict[str, str]] = {"steps": "max_iter", "iterations": "max_iter"}

    max_iter: int = Field(10, ge=0, description="Iterations of boundary search and gradient estimation (ART: 50).")
    max_eval: int = Field(1000, ge=1, description="Most queries per gradient estimate (ART: 10000).")
    init_eval: int = Field(100, ge=1, description="Queries of the first gradient estimate (ART: 100).")
    init_size: int = Field(100, ge=1, description="Random draws to find a first misclassified starting point (ART: 100).")

    def cost(self) -> int:
        """Queries per sample (each about a forward pass of one input)."""
        return self.max_iter * (self.init_eval + self.max_eval) // 2 + self.init_size


class ArtHopSkipJump(_ArtAttack):
    """ART HopSkipJump: decision-based (labels only), minimum norm; nothing done to the logits can hide from it."""

    kind = "min_norm"
    norms = ("linf", "l2")
    default_tag = "adaptive"
    description = "HopSkipJump, decision-based (labels only), minimum norm (Linf or L2); reduced budget"
    Params = HopSkipJumpParams
    pass_labels = True
    cast = True
    default_batch_size = 100

    def build(self, classifier: Any, eps: float | None, n: int) -> Any:
        from art.attacks.evasion import HopSkipJump

        p = self.params
        return HopSkipJump(
            classifier,
            targeted=False,
            norm=ART_NORMS[self.norm],
            max_iter=p.max_iter,
            max_eval=p.max_eval,
            init_eval=p.init_eval,
            init_size=p.init_size,
            batch_size=64,
            verbose=False,
        )

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        import numpy as np
        import torch

        # ART draws its starting points from an unseeded np.random.RandomState(); draw them here, seeded, the
        # same way (uniform images until one is classified differently), and hand them over as x_adv_init.
        clf = art_classifier(model, self.cast)
        atk = self.build(clf, eps, len(x))
        xn = x.detach().cpu().numpy().astype(np.float32)
        rng = np.random.default_rng(self.seed)
        with torch.no_grad():
            pred = model.view(x).argmax(1).cpu().numpy()
        init = xn.copy()
        todo = np.ones(len(x), dtype=bool)
        for _ in range(self.params.init_size):
            if not todo.any():
                break
            draw = rng.uniform(0, 1, size=xn.shape).astype(np.float32)
            with torch.no_grad():
                other = model.view(torch.from_numpy(draw).to(x.device)).argmax(1).cpu().numpy() != pred
            take = todo & other
            init[take] = draw[take]
            todo &= ~take
        # Noise that the model calls one class for every draw (MNIST nets often do) starts no search for inputs of that
        # class: start those from another input of the batch that the model classifies differently, as foolbox does.
        for i in np.flatnonzero(todo):
            others = np.flatnonzero(pred != pred[i])
            if len(others):
                init[i] = xn[others[0]]
        labels = np.eye(model.n_classes, dtype=np.float32)[y.cpu().numpy()]
        out = atk.generate(xn, y=labels, x_adv_init=init)
        return torch.from_numpy(np.asarray(out, dtype=np.float32)).to(x.device)
