"""The attack contract.

``Attack.__call__`` is the only entry point and is not meant to be
overridden. It owns eval mode, seeding, batching, sanity checks of the
backend's output, projection onto the eps-ball and [0,1], and timing.
Backends implement ``generate`` only, on one batch. Success is measured by the
runner on the deployed model, never here.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel
from torch import Tensor, nn
from tqdm.auto import tqdm

from bench.spec import StrictModel

log = logging.getLogger(__name__)

# A projection that moves a point by less than this is float noise, not a real correction.
PROJECTION_TOL = 1e-5


class AttackError(RuntimeError):
    """An attack produced unusable output (wrong shape, NaN, ...)."""


class NoParams(StrictModel):
    """For attacks without parameters."""


@dataclass
class Target:
    """A model seen through a view, shared by all attacks on it (ART wrappers are built once)."""

    view: nn.Module
    n_classes: int
    input_shape: tuple[int, int, int]
    device: torch.device
    _cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, build: Any) -> Any:
        """Build an expensive wrapper once per target, e.g. ART's classifier."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


@dataclass(frozen=True)
class AttackOutput:
    """Adversarial inputs plus what the harness had to correct."""

    x_adv: Tensor
    projected: Tensor  # bool per sample: the harness moved the backend's output
    seconds: float


def seed_everything(seed: int) -> None:
    """Seed every RNG the backends draw from (torch, numpy's global RNG, random)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def lp_norms(delta: Tensor) -> dict[str, Tensor]:
    """Per-sample L0 (changed features), L2 and Linf norms of a perturbation."""
    flat = delta.flatten(1)
    return {
        "l0": (flat.abs() > PROJECTION_TOL).sum(1).float(),
        "l2": flat.norm(p=2, dim=1),
        "linf": flat.abs().amax(1) if flat.shape[1] else torch.zeros(len(flat)),
    }


def project(x: Tensor, x_adv: Tensor, norm: str, eps: float | None) -> tuple[Tensor, Tensor]:
    """Project onto the eps-ball around ``x`` (if eps is given) and onto [0,1]; flag moved samples.

    Points already inside are returned bit for bit: recomputing ``x + (x_adv - x)`` would round,
    and a minimum-norm attack's output sits right on the decision boundary.
    """
    out = x_adv
    if eps is not None and norm == "linf":
        out = torch.maximum(torch.minimum(out, x + eps), x - eps)
    elif eps is not None and norm == "l2":
        n = (out - x).flatten(1).norm(dim=1)
        over = n > eps
        if over.any():
            scale = (eps / n[over].clamp_min(1e-12)).view(-1, *[1] * (x.dim() - 1))
            out = out.clone()
            out[over] = x[over] + (x_adv[over] - x[over]) * scale
    out = out.clamp(0.0, 1.0)
    moved = (out - x_adv).flatten(1).abs().amax(1) > PROJECTION_TOL
    return out, moved


class Attack:
    """Base class. Subclasses set the class attributes and implement ``generate``."""

    kind: ClassVar[Literal["fixed_eps", "min_norm"]] = "fixed_eps"
    norms: ClassVar[tuple[str, ...]] = ("linf",)
    default_tag: ClassVar[Literal["naive", "adaptive"]] = "naive"
    description: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams
    # Part of every attack cell's cache key: bump it when a change alters the attack's output.
    version: ClassVar[int] = 1
    # Large batches amortise per-call overhead; attacks with per-sample early exits prefer smaller ones.
    default_batch_size: ClassVar[int] = 500

    def __init__(self, params: dict[str, Any] | BaseModel, norm: str, seed: int, batch_size: int = 500) -> None:
        self.params = params if isinstance(params, BaseModel) else self.Params.model_validate(params)
        self.norm = norm
        self.seed = seed
        self.batch_size = batch_size

    @classmethod
    def gradient_evals(cls, params: BaseModel) -> int:
        """Rough forward+backward passes per sample and budget, for `bench validate`'s cost estimate."""
        return 1

    def generate(self, target: Target, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        """Return adversarial inputs for one batch. Backends implement only this."""
        raise NotImplementedError

    def __call__(self, target: Target, x: Tensor, y: Tensor, eps: float | None = None, *, desc: str = "", quiet: bool = True) -> AttackOutput:
        """Run on all of ``x`` in batches, then check and project the result. Not to be overridden."""
        if self.kind == "fixed_eps" and eps is None:
            raise ValueError(f"{type(self).__name__} needs an eps")
        if x.numel() and (x.min() < 0 or x.max() > 1 or not torch.isfinite(x).all()):
            raise AttackError("inputs must be finite and in [0, 1]")
        if self.kind == "fixed_eps" and eps == 0:
            # A zero budget admits only the input itself; backends differ in how they fail on it.
            return AttackOutput(x_adv=x.clone(), projected=torch.zeros(len(x), dtype=torch.bool, device=x.device), seconds=0.0)
        module = target.view
        # Every submodule's own flag: a view wrapper and the model inside it may disagree.
        modes = [(m, m.training) for m in module.modules()]
        module.eval()
        seed_everything(self.seed)
        start = time.perf_counter()
        chunks = []
        try:
            starts = range(0, len(x), self.batch_size)
            for i in tqdm(starts, desc=desc or type(self).__name__, unit="batch", disable=quiet, leave=False):
                xb, yb = x[i : i + self.batch_size], y[i : i + self.batch_size]
                chunks.append(self._checked(self.generate(target, xb, yb, eps), xb))
        finally:
            for m, mode in modes:
                m.training = mode
        seconds = time.perf_counter() - start
        x_adv = torch.cat(chunks) if chunks else x.clone()
        x_adv, moved = project(x, x_adv, self.norm, eps if self.kind == "fixed_eps" else None)
        if moved.any():
            log.info("%s: projected %d of %d outputs onto the eps-ball/[0,1]", type(self).__name__, int(moved.sum()), len(x))
        return AttackOutput(x_adv=x_adv.detach(), projected=moved, seconds=seconds)

    @staticmethod
    def _checked(out: Any, xb: Tensor) -> Tensor:
        if isinstance(out, np.ndarray):
            out = torch.from_numpy(out)
        if not isinstance(out, Tensor):
            raise AttackError(f"backend returned {type(out).__name__}, not a tensor")
        if tuple(out.shape) != tuple(xb.shape):
            raise AttackError(f"backend returned shape {tuple(out.shape)}, expected {tuple(xb.shape)}")
        out = out.to(device=xb.device, dtype=xb.dtype)
        if not torch.isfinite(out).all():
            raise AttackError("backend returned NaN or inf")
        return out.detach()
