"""What a model costs: its size, its compute per sample and its inference latency, measured on the model itself.

* **size**: the number of parameters, and the bytes of its checkpoint (the state dict
  exactly as the model store writes it; an external model's program file);
* **compute**: FLOPs of one forward pass on one sample, counted by torch's own
  ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions,
  2 FLOPs per multiply-add; element-wise operations such as ReLU are not counted);
* **latency**: the wall time of repeated forward passes, at batch 1 and at a large batch,
  on the run's device, after warm-up passes, with the thread count it ran with. It is a
  *measurement*: it depends on the machine and on what else ran on it at that moment. So
  the passes run in several short rounds and the fastest round's median is kept (a stall
  or a burst of co-tenant work spoils a round, not the number), and the measurement says
  when it cannot be trusted: ``noisy``, with the reason, when the typical round is much
  slower than the fastest, when the machine's load average exceeds its cores, when the
  process got less than half of the wall time as CPU time (it was suspended, or starved
  by another process), or when its threads slowed each other down: on cores that other
  processes' threads also want, every parallel region of a batch-1 pass waits for a
  sibling thread the OS has descheduled, and a pass of 0.6 ms took 224 ms on this
  machine (2 threads, two other torch jobs running), while on one thread it took 0.69 ms.
  So on the CPU, with more than one thread, batch 1 is timed on one thread too, as a
  control, and a multi-threaded time far above it is flagged.

Training cost (seconds, epochs) is measured when a model is trained and kept with it
in the model store; ``bench.pipeline.cells.cost.measure`` reads it from there.
"""

from __future__ import annotations

import io
import math
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from bench.results.costs import CPU_SHARE_LIMIT


@dataclass(frozen=True)
class LatencySettings:
    """How latency is measured: part of a cost file's key, so changing them measures again."""

    large_batch: int = 256
    warmup: int = 3
    repeats_small: int = 50  # timed passes at batch 1, over all rounds
    repeats_large: int = 10  # timed passes at the large batch, over all rounds
    rounds: int = 5


# When a measurement is flagged noisy: the median round's median over the fastest's; the 1-minute load average per
# core (bench's own threads count, so a run alone stays below it); and the process's CPU seconds per wall second
# under CPU_SHARE_LIMIT (CPU only; its home is the cost table's, which judges training time by it too).
SPREAD_LIMIT = 1.5
LOAD_LIMIT = 1.5
# Batch 1 on N threads against one thread: on a quiet machine within ~1.2x either way (threads barely help a pass this
# small); far above, the threads waited for each other.
THREAD_CONTROL_LIMIT = 3.0


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
def round_medians(module: nn.Module, x: Tensor, warmup: int, repeats: int, rounds: int) -> list[float]:
    """The median wall time of the forward passes on ``x`` in each of ``rounds`` rounds (``repeats`` passes in all, at
    least 2 a round), after ``warmup`` passes; ``x`` is already on the model's device."""
    device = x.device
    for _ in range(warmup):
        module(x)
    _sync(device)
    medians = []
    for _ in range(rounds):
        times = []
        for _ in range(max(2, repeats // rounds)):
            start = time.perf_counter()
            module(x)
            _sync(device)
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
    return medians


def load_per_core() -> float:
    """The 1-minute load average divided by the cores this process may run on (NaN where the OS has no load average)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return math.nan
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return load / cores


def noise_reasons(
    spreads: dict[str, float], load: float, cpu_share: float | None, threads: tuple[int, float, float] | None = None
) -> list[str]:
    """Why a latency measurement cannot be trusted (empty when it can): the rules of ``noisy``.

    ``threads``: (threads, batch-1 seconds on them, batch-1 seconds on one thread), the control of a CPU measurement.
    """
    reasons = [f"its rounds differ {v:.1f}x at {name}" for name, v in spreads.items() if v > SPREAD_LIMIT]
    if load > LOAD_LIMIT:
        reasons.append(f"the load average was {load:.1f} per core")
    if cpu_share is not None and cpu_share < CPU_SHARE_LIMIT:
        reasons.append(f"the process got {cpu_share:.0%} of the wall time as CPU time (suspended or starved)")
    if threads is not None and threads[1] > THREAD_CONTROL_LIMIT * threads[2]:
        n, many, one = threads
        reasons.append(
            f"a batch-1 pass took {1000 * many:.3g} ms on {n} threads but {1000 * one:.3g} ms on one "
            "(its threads waited for each other on busy cores)"
        )
    return reasons


def large_batch(x: Tensor, size: int) -> Tensor:
    """``size`` inputs taken from ``x`` (tiled when ``x`` has fewer), so every model is timed at the same batch."""
    reps = -(-size // max(len(x), 1))
    return x.repeat(reps, *([1] * (x.dim() - 1)))[:size] if reps > 1 else x[:size]


def latency(module: nn.Module, x: Tensor, device: torch.device, settings: LatencySettings) -> dict[str, Any]:
    """Seconds per forward pass at batch 1 and at ``settings.large_batch`` (the fastest round's median each), the threads
    torch used, how busy the machine was meanwhile, and whether that makes the numbers ``noisy``."""
    was_training = module.training
    module.eval()
    load_before = load_per_core()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        one = x[:1].to(device)
        big = large_batch(x, settings.large_batch).to(device)
        small = round_medians(module, one, settings.warmup, settings.repeats_small, settings.rounds)
        large = round_medians(module, big, settings.warmup, settings.repeats_large, settings.rounds)
        threads = torch.get_num_threads()
        control = None
        if device.type == "cpu" and threads > 1:
            try:
                torch.set_num_threads(1)
                control = (threads, min(small), min(round_medians(module, one, settings.warmup, settings.repeats_small, settings.rounds)))
            finally:
                torch.set_num_threads(threads)
    finally:
        module.train(was_training)
    # On a GPU the process waits for the device, so its CPU time says nothing about a co-tenant.
    cpu_share = (time.process_time() - cpu0) / (time.perf_counter() - wall0) if device.type == "cpu" else None
    load = max(load_before, load_per_core())
    # The typical round against the fastest: one stalled round leaves the kept number alone and is no reason to
    # distrust it, rounds that are all slowed unevenly are. Judged at batch 1, whose rounds hold 10 passes each; the
    # large batch's 2 a round are too few to judge by (on an idle machine they differed up to 3x).
    spreads = {"batch 1": statistics.median(small) / min(small), f"batch {len(big)}": statistics.median(large) / min(large)}
    small_s, large_s = min(small), min(large)
    reasons = noise_reasons({"batch 1": spreads["batch 1"]}, load, cpu_share, control)
    return {
        "latency_batch1_ms": 1000 * small_s,
        "latency_large_ms": 1000 * large_s,
        "large_batch": len(big),
        "latency_large_per_sample_ms": 1000 * large_s / len(big),
        "repeats_batch1": settings.repeats_small,
        "repeats_large": settings.repeats_large,
        "rounds": settings.rounds,
        "threads": threads,
        "latency_batch1_one_thread_ms": 1000 * control[2] if control else None,
        "latency_batch1_spread": spreads["batch 1"],
        "latency_large_spread": spreads[f"batch {len(big)}"],
        "load_per_core": load,
        "cpu_share": cpu_share,
        "noisy": bool(reasons),
        "noisy_reason": "; ".join(reasons),
    }
