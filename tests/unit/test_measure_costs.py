"""Measuring what a model costs (bench.pipeline.measure.costs): FLOPs against a hand count, latency from real timed passes, sizes."""

from __future__ import annotations

import os
import time

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
    settings = costs.LatencySettings(large_batch=32, warmup=2, repeats_small=8, repeats_large=4, rounds=2)
    out = costs.latency(model, torch.rand(10, 4), torch.device("cpu"), settings)
    # Every pass ran: warm-up and timed (in 2 rounds), at batch 1, then at the large batch (tiled from 10 inputs up to 32).
    assert model.batches == [1] * (2 + 8) + [32] * (2 + 4)
    assert out["large_batch"] == 32 and (out["repeats_batch1"], out["repeats_large"], out["rounds"]) == (8, 4, 2)
    assert out["threads"] == torch.get_num_threads()
    assert out["latency_batch1_ms"] > 0 and out["latency_large_ms"] > 0
    assert out["latency_large_per_sample_ms"] == pytest.approx(out["latency_large_ms"] / 32)


def test_on_several_threads_batch_1_is_timed_on_one_thread_too_as_a_control():
    model, before = Counting(), torch.get_num_threads()
    settings = costs.LatencySettings(large_batch=32, warmup=2, repeats_small=8, repeats_large=4, rounds=2)
    torch.set_num_threads(2)
    try:
        out = costs.latency(model, torch.rand(10, 4), torch.device("cpu"), settings)
        assert torch.get_num_threads() == 2, "the control leaves the threads as it found them"
    finally:
        torch.set_num_threads(before)
    assert model.batches == [1] * (2 + 8) + [32] * (2 + 4) + [1] * (2 + 8)
    assert out["threads"] == 2 and out["latency_batch1_one_thread_ms"] > 0


def test_checkpoint_bytes_are_the_bytes_the_model_store_writes(tmp_path):
    model = build_model("tiny-mlp", (1, 8, 8), 10)
    store = ModelStore(tmp_path)
    store.save("k", model.state_dict(), {})
    assert costs.state_dict_bytes(model) == store.paths("k")[0].stat().st_size
    assert costs.parameter_count(model) == 64 * 32 + 32 + 32 * 10 + 10


def test_the_rules_of_a_noisy_measurement():
    assert costs.noise_reasons({"batch 1": 1.2, "batch 256": 1.1}, 0.9, 0.95) == []
    assert costs.noise_reasons({"batch 1": 1.2}, float("nan"), None) == [], "no load average, a GPU: nothing claimed"
    reasons = costs.noise_reasons({"batch 1": 3.0, "batch 256": 1.0}, 2.0, 0.2)
    assert reasons == [
        "its rounds differ 3.0x at batch 1",
        "the load average was 2.0 per core",
        "the process got 20% of the wall time as CPU time (suspended or starved)",
    ]
    # The convoy seen here: 224 ms a pass on 2 threads beside two other torch jobs, 0.69 ms on one thread.
    assert costs.noise_reasons({"batch 1": 1.0}, 0.9, 0.9, (2, 0.224, 0.00069)) == [
        "a batch-1 pass took 224 ms on 2 threads but 0.69 ms on one (its threads waited for each other on busy cores)"
    ]
    assert costs.noise_reasons({"batch 1": 1.0}, 0.9, 0.9, (2, 0.0003, 0.00025)) == [], "threads barely help at batch 1"


class Stalls(nn.Module):
    """A small net whose 20th pass stalls for 0.2 s without using the CPU, as a suspended process would."""

    def __init__(self) -> None:
        super().__init__()
        self.net, self.calls = nn.Linear(64, 10), 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == 20:
            time.sleep(0.2)
        return self.net(x)


def test_a_stall_spoils_one_round_not_the_number_and_is_flagged():
    quiet = costs.latency(nn.Linear(64, 10), torch.rand(8, 64), torch.device("cpu"), costs.LatencySettings())
    out = costs.latency(Stalls(), torch.rand(8, 64), torch.device("cpu"), costs.LatencySettings())
    assert out["latency_batch1_ms"] < 50, "the fastest round's median, not the stalled pass"
    assert out["noisy"] and "suspended or starved" in out["noisy_reason"]
    assert out["latency_batch1_ms"] < 10 * max(quiet["latency_batch1_ms"], 0.05)


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def test_a_measurement_beside_busy_processes_is_close_to_the_quiet_one_or_flagged_noisy():
    import multiprocessing as mp

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 26 * 26, 10)).eval()
    x = torch.rand(16, 1, 28, 28)
    settings = costs.LatencySettings(large_batch=64)
    quiet = costs.latency(model, x, torch.device("cpu"), settings)
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    spinners = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(2 * (os.cpu_count() or 1))]
    for p in spinners:
        p.start()
    try:
        time.sleep(1.0)  # let them take the cores
        busy = costs.latency(model, x, torch.device("cpu"), settings)
    finally:
        stop.set()
        for p in spinners:
            p.join(timeout=10)
    ratio = busy["latency_batch1_ms"] / quiet["latency_batch1_ms"]
    assert busy["noisy"] or ratio < 3, f"{ratio:.1f}x the quiet latency and not flagged: {busy}"
    assert not (ratio >= 10 and not busy["noisy"]), "never silently 10x off"
