"""What a model costs: its size, its compute per sample and its inference latency, measured on the model itself.

* **size**: the number of parameters, and the bytes of its checkpoint (the state dict
  exactly as the model store writes it; an external model's program file);
* **compute**: FLOPs of one forward pass on one sample, counted by torch's own
  ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions,
  2 FLOPs per multiply-add; element-wise operations such as ReLU are not counted);
* **latency**: the median wall time of repeated forward passes, at batch 1 and at a
  large batch, on the run's device, after warm-up passes, with the thread count it
  ran with. It is a *measurement*: it depends on the machine and on what else ran on
  it at that moment, so two measurements of the same model differ.

Training cost (seconds, epochs) is measured when a model is trained and kept with it
in the model store; ``bench.pipeline.cells.cost.measure`` reads it from there.
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class LatencySettings:
    """How latency is measured: part of a cost file's key, so changing them measures again."""

    large_batch: int = 256
    warmup: int = 3
    repeats_small: int = 50  # timed passes at batch 1
    repeats_large: int = 10  # timed passes at the large batch


def parameter_count(module: nn.Module) -> int:
    """Every parameter of ``module`` (trainable or not); 0 for a program without parameters."""
    return sum(p.numel() for p in module.parameters())


def state_dict_bytes(module: nn.Module) -> int:
    """The size of the state dict as ``bench.pipeline.models.store.ModelStore.save`` writes it (tensors moved to the CPU)."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, buf)
    return len(buf.getvalue())


@torch.inference_mode()
def flops_per_sample(module: nn.Module, x: Tensor) -> int:
    """FLOPs of one eval-mode forward pass on the single input ``x[:1]``, as ``FlopCounterMode`` counts them."""
    was_training = module.training
    module.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            module(x[:1])
    finally:
        module.train(was_training)
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def median_seconds(module: nn.Module, x: Tensor, warmup: int, repeats: int) -> float:
    """The median wall time of ``repeats`` forward passes on ``x`` (already on the model's device), after ``warmup``."""
    device = x.device
    for _ in range(warmup):
        module(x)
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        module(x)
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def large_batch(x: Tensor, size: int) -> Tensor:
    """``size`` inputs taken from ``x`` (tiled when ``x`` has fewer), so every model is timed at the same batch."""
    reps = -(-size // max(len(x), 1))
    return x.repeat(reps, *([1] * (x.dim() - 1)))[:size] if reps > 1 else x[:size]


def latency(module: nn.Module, x: Tensor, device: torch.device, settings: LatencySettings) -> dict[str, float | int]:
    """Median seconds per forward pass at batch 1 and at ``settings.large_batch``, and the threads torch used."""
    was_training = module.training
    module.eval()
    try:
        one = x[:1].to(device)
        big = large_batch(x, settings.large_batch).to(device)
        small_s = median_seconds(module, one, settings.warmup, settings.repeats_small)
        large_s = median_seconds(module, big, settings.warmup, settings.repeats_large)
    finally:
        module.train(was_training)
    return {
        "latency_batch1_ms": 1000 * small_s,
        "latency_large_ms": 1000 * large_s,
        "large_batch": len(big),
        "latency_large_per_sample_ms": 1000 * large_s / len(big),
        "repeats_batch1": settings.repeats_small,
        "repeats_large": settings.repeats_large,
        "threads": torch.get_num_threads(),
    }
