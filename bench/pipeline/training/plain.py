"""Plain training: the loss of a baseline, a teacher and a student, and the predictions distillation reads.

* ``baseline``: cross-entropy on hard labels (T=1).
* ``teacher``: cross-entropy of softmax(logits / T) against hard labels.
* ``student``: cross-entropy against the teacher's soft labels softmax(teacher_logits / T),
  at the same T. The deployed student is its raw logits (T=1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.pipeline.training.loop import BatchLoss
from bench.spec.schema import TrainSpec


def batch_loss(model: nn.Module, y: Tensor, params: TrainSpec, soft_targets: Tensor | None) -> BatchLoss:
    """Cross-entropy of softmax(logits / T) against the hard labels ``y``, or against a teacher's ``soft_targets``."""

    def loss(xb: Tensor, idx: Tensor) -> tuple[Tensor, Tensor]:
        logits = model(xb).float() / params.temperature  # fp32 even when the forward pass ran in bf16 (a no-op in fp32)
        yb = y[idx].to(xb.device)
        if soft_targets is None:
            value = F.cross_entropy(logits, yb)
        else:
            value = -(soft_targets[idx].to(xb.device) * F.log_softmax(logits, dim=1)).sum(1).mean()
        return value, (logits.argmax(1) == yb).sum()

    return loss


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
