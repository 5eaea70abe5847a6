"""Tensor helpers of the attack contract: seeding, perturbation norms and projection."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import Tensor

# A projection that moves a point by less than this is float noise, not a real correction.
PROJECTION_TOL = 1e-5


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
