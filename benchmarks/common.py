"""Shared set-up for the benchmarks: the default suite's models and samples, timing helpers.

Models come from bench's own model store (trained on first use, exactly as
`bench run suites/mnist.yaml` would), so every script measures the same nets.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import torch

from bench.cache import ModelStore, default_store_root
from bench.cells import TrainedModel, obtain_model
from bench.data import DataBundle, data_roots, load_data
from bench.runner import model_seed, topo_models
from bench.spec import load_suite

ROOT = Path(__file__).resolve().parents[1]


def mnist_models(suite: str = "mnist.yaml", eval_size: int = 500) -> tuple[dict[str, TrainedModel], DataBundle]:
    """The suite's models (trained or loaded from the store) and its data, on the CPU."""
    spec = load_suite(ROOT / "suites" / suite, [f"dataset.eval_size={eval_size}"])
    data = load_data(spec.dataset.name, data_roots(os.environ.get("BENCH_DATA_DIR"), spec.dataset.root), spec.seed,
                     spec.dataset.train_size, spec.dataset.eval_size)
    store = ModelStore(default_store_root())
    models: dict[str, TrainedModel] = {}
    for mid in topo_models(spec):
        m = spec.model(mid)
        teacher = models.get(m.teacher) if m.teacher else None
        models[mid] = obtain_model(m, data, model_seed(spec, mid), store, torch.device("cpu"), teacher, quiet=False)
    return models, data


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float, list[float]]:
    """Run ``fn`` ``repeat`` times; return the last result, the median seconds and all timings."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times), times


def success_and_median_l2(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, x_adv: torch.Tensor) -> tuple[float, float, int]:
    """Success rate over correctly classified samples, median L2 of the successful ones, and their count."""
    with torch.no_grad():
        ok = model(x).argmax(1) == y
        won = ok & (model(x_adv).argmax(1) != y)
    l2 = (x_adv - x).flatten(1).norm(dim=1)[won]
    rate = won.sum().item() / max(ok.sum().item(), 1)
    return rate, float(l2.median()) if len(l2) else float("nan"), int(ok.sum())
