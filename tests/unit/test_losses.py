"""The attack losses (bench.attacks.losses)."""

from __future__ import annotations

import torch

from bench.attacks.losses import margin


def test_margin_sign():
    z = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
    assert margin(z, torch.tensor([0, 1])).tolist() == [2.0, -3.0]
