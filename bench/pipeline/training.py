"""Training: pure, seeded functions of (model, data, params).

* ``baseline``: cross-entropy on hard labels (T=1).
* ``teacher``: cross-entropy of softmax(logits / T) against hard labels.
* ``student``: cross-entropy against the teacher's soft labels softmax(teacher_logits / T),
  at the same T. The deployed student is its raw logits (T=1).

Recipe: Adam with a cosine learning-rate decay. Plain SGD does not train at
T=100 on this machine (REFERENCE.md); Adam is invariant to the 1/T scale of the
gradients that high temperature causes, so it needs no T^2 loss rescaling.
"""

from __future__ import annotations

import logging
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from bench.spec.schema import TrainSpec

log = logging.getLogger(__name__)


def _optimizer(model: nn.Module, params: TrainSpec) -> torch.optim.Optimizer:
    if params.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=params.lr)
    return torch.optim.SGD(model.parameters(), lr=params.lr, momentum=params.momentum, nesterov=params.momentum > 0)


def fit(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    params: TrainSpec,
    seed: int,
    soft_targets: Tensor | None = None,
    desc: str = "train",
    quiet: bool = True,
) -> nn.Module:
    """Train ``model`` in place on (x, y) at ``params.temperature``; soft targets make it a student."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout draws from the global RNG
    opt = _optimizer(model, params)
    n = len(x)
    steps_per_epoch = (n + params.batch_size - 1) // params.batch_size
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=params.epochs * steps_per_epoch) if params.schedule == "cosine" else None
    model.train()
    bar = tqdm(total=params.epochs * steps_per_epoch, desc=desc, unit="step", disable=quiet, leave=False)
    for epoch in range(params.epochs):
        start, total = time.perf_counter(), 0.0
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, params.batch_size):
            idx = perm[i : i + params.batch_size]
            xb = x[idx].to(device, non_blocking=True)
            logits = model(xb) / params.temperature
            if soft_targets is None:
                loss = F.cross_entropy(logits, y[idx].to(device))
            else:
                loss = -(soft_targets[idx].to(device) * F.log_softmax(logits, dim=1)).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach()) * len(idx)
            bar.update(1)
        log.debug("%s epoch %d/%d: loss %.4f (%.1fs)", desc, epoch + 1, params.epochs, total / n, time.perf_counter() - start)
    bar.close()
    model.eval()
    return model


@torch.inference_mode()
def predict_logits(model: nn.Module, x: Tensor, batch_size: int = 1000) -> Tensor:
    """Logits of ``model`` in eval mode, batched; restores the model's mode."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i : i + batch_size].to(device)) for i in range(0, len(x), batch_size)]) if len(x) else torch.empty(0)
    model.train(was_training)
    return out.float()


def soft_labels(teacher: nn.Module, x: Tensor, temperature: float) -> Tensor:
    """The teacher's soft labels softmax(logits / T) for every training input."""
    return torch.softmax(predict_logits(teacher, x) / temperature, dim=1)
