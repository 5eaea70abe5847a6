"""Per-sample gradient-masking diagnostics computed on a model (the only checks that need it).

For each evaluation input: the largest absolute logit, the gap between the top
two logits, whether the float32 softmax is *exactly* one-hot, and whether the
cross-entropy input gradient is *exactly* zero. A distilled net at T=100 has
logit gaps in the hundreds, past the point (~104) where float32 ``exp``
underflows to 0, so both are true for most of its inputs.

Three more, done as AutoAttack's own checks do them (``autoattack/checks.py``): whether
an input's output is a probability vector (in [0, 1], summing to 1: the model ends in a
softmax, and attacks see no logits); whether it differs across ``REPEATS`` passes
(the model is randomized, e.g. dropout left on, and a deterministic attack's result is
one draw); and how often the forward pass called ``backward`` or ``grad`` (a dynamic
defence that optimises at inference time).

One for a randomized defence (Athalye et al. 2018's stochastic gradients): the cosine between
the input gradients of two passes, which is 1 for a deterministic model.
"""

from __future__ import annotations

import math
import sys
from types import FrameType
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.results.records import DIAGNOSTICS_COLUMNS as COLUMNS

# AutoAttack's tolerances: an output is a probability vector within PROB_TOL; passes differ beyond RANDOM_TOL
# (L2 distance of the L2-normalised outputs).
PROB_TOL = 1e-5
RANDOM_TOL = 1e-4
REPEATS = 5
GRAD_FUNCTIONS = ("grad", "backward", "_make_grads")


def count_grad_calls(model: nn.Module, x: Tensor) -> int:
    """How many times one forward pass calls a Python function named backward, grad or _make_grads."""
    calls = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_name in GRAD_FUNCTIONS:
            calls += 1

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        model(x)
    finally:
        sys.settrace(previous)
    return calls


def model_checks(model: nn.Module, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per input: whether the output is a probability vector, and whether it changes across repeated passes."""
    with torch.no_grad():
        outs = [model(x).float() for _ in range(REPEATS)]
    first = outs[0]
    prob = (first.amax(1) < 1 + PROB_TOL) & (first.amin(1) > -PROB_TOL) & ((first.sum(1) - 1).abs() < PROB_TOL)
    unit = [o / (o.norm(dim=1, keepdim=True) + 1e-10) for o in outs]
    moved = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    for o, u in zip(outs[1:], unit[1:], strict=True):
        moved |= ((u - unit[0]).norm(dim=1) > RANDOM_TOL) | (o.argmax(1) != first.argmax(1))
    return prob.cpu().numpy(), moved.cpu().numpy()


def input_gradient(model: nn.Module, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """The logits of one pass on ``x`` and the gradient of the summed cross-entropy with respect to ``x``."""
    xg = x.clone().requires_grad_(True)
    logits = model(xg).float()
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), xg)
    return logits, grad


def gradient_cosine(a: Tensor, b: Tensor) -> np.ndarray:
    """Per input, the cosine between two input gradients (in float64); NaN where either is zero."""
    a, b = a.flatten(1).double(), b.flatten(1).double()
    norms = a.norm(dim=1) * b.norm(dim=1)
    cos = (a * b).sum(1) / norms
    return torch.where(norms > 0, cos, torch.full_like(cos, math.nan)).cpu().numpy()


def diagnose(
    model_id: str, model: nn.Module, x: Tensor, y: Tensor, sample: np.ndarray, batch_size: int = 500, eval_draws: int = 1
) -> pd.DataFrame:
    """Diagnostics of ``model`` on (x, y), in eval mode; the model's mode is restored.

    ``grad_cosine`` compares the input gradients of two passes: 1 for a deterministic model, lower
    the more a randomized model's gradient depends on its draw. ``eval_draws`` is recorded as given:
    the randomized-model check reads whether a model that varies is judged by a vote.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts = []
    try:
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size].to(device), y[i : i + batch_size].to(device)
            logits, grad = input_gradient(model, xb, yb)
            _, second = input_gradient(model, xb, yb)
            prob_output, randomized = model_checks(model, xb)
            with torch.no_grad():
                probs = torch.softmax(logits, dim=1)
                top2 = logits.topk(2, dim=1).values if logits.shape[1] > 1 else torch.cat([logits, logits], 1)
                onehot = (probs.amax(1) == 1.0) & ((probs == 0).sum(1) == probs.shape[1] - 1)
                parts.append(
                    pd.DataFrame(
                        {
                            "max_abs_logit": logits.abs().amax(1).cpu().numpy(),
                            "logit_gap": (top2[:, 0] - top2[:, 1]).cpu().numpy(),
                            "softmax_onehot": onehot.cpu().numpy(),
                            "grad_zero": (grad.flatten(1).abs().amax(1) == 0).cpu().numpy(),
                            "grad_l1": grad.flatten(1).abs().sum(1).double().cpu().numpy(),
                            "grad_cosine": gradient_cosine(grad, second),
                            "prob_output": prob_output,
                            "randomized": randomized,
                        }
                    )
                )
        grad_calls = count_grad_calls(model, x[:batch_size].to(device)) if len(x) else 0
    finally:
        model.train(was_training)
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[c for c in COLUMNS[2:] if c not in ("grad_calls", "eval_draws")])
    )
    frame["grad_calls"] = grad_calls
    frame["eval_draws"] = eval_draws
    frame.insert(0, "sample", sample[: len(frame)])
    frame.insert(0, "model", model_id)
    return frame[COLUMNS]
