"""Measuring what a model costs (bench.pipeline.measure.costs): FLOPs against a hand count, latency from real timed passes, sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.pipeline.measure import costs
from bench.pipeline.models.networks import (
    build_model,
)
from bench.pipeline.models.store import ModelStore


def test_flops_of_a_linear_model_match_a_hand_count():
    # One sample through Linear(64 -> 10): 64 * 10 multiply-adds, 2 FLOPs each. The bias is not a matrix product.
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    assert costs.flops_per_sample(model, torch.zeros(5, 1, 8, 8)) == 2 * 64 * 10
    # Two layers with a ReLU between: only the two matrix products count.
    mlp = build_model("tiny-mlp", (1, 8, 8), 10)
    assert costs.flops_per_sample(mlp, torch.zeros(3, 1, 8, 8)) == 2 * (64 * 32 + 32 * 10)
    assert mlp.training, "the model's mode is restored"


def test_flops_of_a_convolution_match_a_hand_count():
    # Conv2d(1 -> 4, 3x3) on 8x8 gives 4 x 6 x 6 outputs, each 9 multiply-adds.
    conv = nn.Conv2d(1, 4, 3)
    assert costs.flops_per_sample(conv, torch.zeros(2, 1, 8, 8)) == 2 * 4 * 6 * 6 * 9


class Counting(nn.Module):
    """Records the batch size of every forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(4, 2)
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(x))
        return self.net(x)


def test_latency_is_measured_by_timed_forward_passes_at_batch_1_and_a_large_batch():
    model = Counting()
    settings = costs.LatencySettings(large_batch=32, warmup=2, repeats_small=7, repeats_large=3)
    out = costs.latency(model, torch.rand(10, 4), torch.device("cpu"), settings)
    # Every pass ran: warm-up and timed, at batch 1, then at the large batch (tiled from 10 inputs up to 32).
    assert model.batches == [1] * (2 + 7) + [32] * (2 + 3)
    assert out["large_batch"] == 32 and (out["repeats_batch1"], out["repeats_large"]) == (7, 3)
    assert out["threads"] == torch.get_num_threads()
    assert out["latency_batch1_ms"] > 0 and out["latency_large_ms"] > 0
    assert out["latency_large_per_sample_ms"] == pytest.approx(out["latency_large_ms"] / 32)


def test_checkpoint_bytes_are_the_bytes_the_model_store_writes(tmp_path):
    model = build_model("tiny-mlp", (1, 8, 8), 10)
    store = ModelStore(tmp_path)
    store.save("k", model.state_dict(), {})
    assert costs.state_dict_bytes(model) == store.paths("k")[0].stat().st_size
    assert costs.parameter_count(model) == 64 * 32 + 32 + 32 * 10 + 10
