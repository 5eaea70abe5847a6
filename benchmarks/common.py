"""Shared set-up for the benchmarks: the default suite's models and samples, timing helpers.

Models come from bench's own model store (trained on first use, exactly as
`bench run suites/mnist.yaml` would), so every script measures the same nets.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench.catalogue.datasets import data_roots
from bench.pipeline.cells.build import train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.values import DataRef, ModelRef
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.data.bundle import DataBundle, load_data
from bench.pipeline.models.store import default_store_root
from bench.pipeline.runner import data_ref
from bench.spec.load import load_suite, parse_suite
from bench.spec.plan import model_seed, topo_models
from bench.spec.schema import AttackSpec

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Models:
    """The suite's trained models, the workspace that holds them, and their data."""

    ws: Workspace
    refs: dict[str, ModelRef]
    data: DataBundle
    data_ref: DataRef

    def module(self, model_id: str) -> torch.nn.Module:
        """The trained network, in eval mode on the CPU."""
        return self.ws.module(self.refs[model_id], self.data)


def mnist_models(suite: str = "mnist.yaml", eval_size: int = 500, only: tuple[str, ...] | None = None) -> Models:
    """The suite's models (trained or loaded from the store) and its data, on the CPU; run folder in a temp dir.

    ``only``: just these models and their teachers (None: every model of the suite; (): none, the data alone).
    """
    spec = load_suite(ROOT / "suites" / suite, [f"dataset.eval_size={eval_size}"])
    roots = data_roots(os.environ.get("BENCH_DATA_DIR"), spec.dataset.root)
    data = load_data(spec.dataset.name, roots, spec.seed, spec.dataset.train_size, spec.dataset.eval_size)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-benchmark-"))
    ws = Workspace(WorkspacePaths(run_dir, default_store_root(), tuple(roots), "cpu", quiet=False), data)
    ref = data_ref(spec, data)
    refs: dict[str, ModelRef] = {}
    wanted = set(topo_models(spec) if only is None else only)
    for mid in reversed(topo_models(spec)):  # a wanted model's teacher comes before it, so walk back from the students
        if mid in wanted and spec.model(mid).teacher:
            wanted.add(spec.model(mid).teacher)
    for mid in topo_models(spec):
        if mid not in wanted:
            continue
        m = spec.model(mid)
        refs[mid] = execute(train_cell(m, ref, model_seed(spec, mid), ws.runtime, refs.get(m.teacher) if m.teacher else None), ws)["ref"]
    return Models(ws, refs, data, ref)


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


def alternate(bench_fn: Callable[[], Any], plain_fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Run the two alternately ``repeat`` times each; their median seconds (bench, plain)."""
    tb, tp = [], []
    for _ in range(repeat):
        for fn, acc in ((bench_fn, tb), (plain_fn, tp)):
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    return statistics.median(tb), statistics.median(tp)


def attack_spec(use: str, params: dict, eps: list[float]) -> AttackSpec:
    """One attack of a one-model MNIST suite, validated as a suite's would be."""
    suite = parse_suite(
        {
            "name": "b",
            "dataset": {"name": "mnist"},
            "models": [{"id": "m", "kind": "baseline", "arch": "papernot-mnist"}],
            "attacks": [{"id": "a", "use": use, "params": params, "eps": eps}],
        }
    )
    return suite.attacks[0]


def matmul_peak(n: int = 2048, repeat: int = 5) -> float:
    """The machine's fp32 peak as torch reaches it: FLOP/s of the fastest of ``repeat`` n x n matrix products."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up: threads, caches
    best = min(timed(lambda: a @ b)[1] for _ in range(repeat))
    return 2 * n**3 / best


def training_flops_per_sample(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """FLOPs of one training step (forward and backward) per sample, counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(x)
