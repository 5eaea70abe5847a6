"""Margin losses on logits, the adaptive alternative to cross-entropy.

A margin ``Z_y - max_{i != y} Z_i`` has useful gradients even where a float32
softmax is exactly one-hot and cross-entropy's input gradient is exactly zero.
"""

from __future__ import annotations

import torch
from torch import Tensor


def margin(logits: Tensor, y: Tensor) -> Tensor:
    """``Z_y - max_{i != y} Z_i`` per sample: positive while the label ``y`` still wins."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    other = logits.masked_fill(torch.nn.functional.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(1)
    return true - other
