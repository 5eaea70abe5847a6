"""Local vs Dask (or Slurm) on a reduced suites/mnist-temperature.yaml: wall time, scheduling overhead per cell, extrapolation.

Two cold runs of the same suite, each in a fresh model store and run folder:
* local: `bench run` as today, one cell after another, torch on every core;
* dask: `bench run --executor dask --workers 2 --threads-per-worker 1` (1 torch thread per cell);
  or, with --executor slurm, `bench run --executor slurm --jobs 2 --cores-per-job 1`: the same
  on 2 one-core Slurm jobs (start the dev cluster first: scripts/slurm-dev-cluster.sh up, and
  export the SLURM_CONF it prints).

It prints the wall-time ratio, and the scheduling overhead per cell of the Dask run:
the time from when a cell could start (its inputs were done and its worker was free)
to when the driver had its result, minus the cell's own seconds, as a median over
cells. Each worker's first cell is left out: its wait is the cluster's start-up,
printed separately. Last, a paper extrapolation: the ideal wall time on 8, 32 and
128 workers from the measured (1-thread) cell times, the plan's dependencies and its
critical path, with and without the measured overhead per cell.

The suite is reduced so that both runs take under 15 minutes on 2 cores (see
DEFAULT_SET; override with --set). Needs MNIST: export BENCH_DATA_DIR.

With --malloc-trim it measures one thing only: training the smoke suite's CNN in a Dask
worker with Dask's default MALLOC_TRIM_THRESHOLD_=65536 and without it (bench unsets it).

Run: python benchmarks/scaling.py [--workers 2] [--executor dask|slurm] [--suite SUITE] [--set KEY=VALUE ...] | --malloc-trim
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.spec.load import load_suite
from bench.spec.plan import PlannedCell, cell_graph, critical_path, ideal_wall_time

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "suites" / "mnist-temperature.yaml"
# 1 epoch on half the training set, 100 evaluation samples, C&W on 50: both runs in about 12 minutes on 2 quiet cores.
DEFAULT_SET = [
    "models.baseline.train.epochs=1",
    "models.teacher.train.epochs=1",
    "models.distilled.train.epochs=1",
    "dataset.train_size=30000",
    "dataset.eval_size=100",
    "attacks.cw.n_samples=50",
]


def bench_run(suite: Path, out: Path, store: Path, overrides: list[str], extra: list[str]) -> float:
    """Wall seconds of one `bench run` in a fresh process, start-up and report included."""
    env = dict(os.environ, BENCH_CACHE_DIR=str(store))
    args = [sys.executable, "-m", "bench", "run", str(suite), "--out", str(out), "-q", *sum((["--set", o] for o in overrides), []), *extra]
    before, start = os.getloadavg()[0], time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    # Other jobs share these cores: the load average says how much they did during the run.
    print(f"  (1-min load average {before:.1f} before, {os.getloadavg()[0]:.1f} after)")
    return seconds


def overheads(cells: dict[str, dict], graph: list[PlannedCell]) -> tuple[list[float], list[float]]:
    """Per cell, Dask time minus the cell's own seconds; and each worker's wait for its first cell (start-up)."""
    deps = {c.name: c.deps for c in graph}
    first = min(c["started"] for c in cells.values())
    per_worker: dict[str, list[tuple[float, float]]] = {}
    for c in cells.values():
        per_worker.setdefault(c["worker"], []).append((c["started"], c["finished"]))
    out, startup = [], []
    for name, c in cells.items():
        free = [f for s, f in per_worker[c["worker"]] if f <= c["started"]]
        ready = [cells[d]["finished"] for d in deps[name] if d in cells]
        if not free and not ready:
            startup.append(c["started"] - first)
            continue
        could_start = max(free + ready)
        out.append((c["reported"] - could_start) - c["seconds"])
    return out, startup


def _train_smoke_cnn() -> float:
    import torch

    from bench.pipeline.data.bundle import load_data
    from bench.pipeline.models.networks import build_model
    from bench.pipeline.training import fit
    from bench.spec.schema import TrainSpec

    torch.set_num_threads(1)
    data = load_data("digits", [], 0, None, 200)
    torch.manual_seed(0)
    model = build_model("small-cnn", data.shape, data.n_classes)
    start = time.perf_counter()
    fit(model, data.x_train, data.y_train, TrainSpec(epochs=40, batch_size=64, lr=0.01), 0)
    return time.perf_counter() - start


def malloc_trim_effect(repeat: int = 5) -> None:
    """Train the smoke suite's CNN (1 thread) in a one-worker LocalCluster with and without Dask's MALLOC_TRIM_THRESHOLD_.

    Both clusters live side by side and take turns, so a noisy machine slows both alike.
    """
    import dask
    from distributed import Client, LocalCluster

    from bench.pipeline.executors.dask import LOOPBACK

    labels = {"Dask default, MALLOC_TRIM_THRESHOLD_=65536": 65536, "unset (what bench does)": None}
    clients = {}
    for label, trim in labels.items():
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": trim}):
            clients[label] = Client(LocalCluster(n_workers=1, threads_per_worker=1, **LOOPBACK))
    times: dict[str, list[float]] = {label: [] for label in labels}
    try:
        for _ in range(repeat):
            for label, client in clients.items():
                times[label].append(client.submit(_train_smoke_cnn, pure=False).result())
    finally:
        for client in clients.values():
            client.cluster.close()
            client.close()
    for label, runs in times.items():
        print(f"train smoke CNN in a worker, {label}: median {statistics.median(runs):.2f} s of {', '.join(f'{t:.2f}' for t in runs)}")
    default, unset = (statistics.median(runs) for runs in times.values())
    print(f"ratio default / unset: {default / unset:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2, help="Dask workers, or Slurm jobs of one core each")
    ap.add_argument("--executor", choices=["dask", "slurm"], default="dask", help="what to compare with local (default dask)")
    ap.add_argument("--suite", type=Path, default=SUITE, help="another suite (DEFAULT_SET then does not apply), e.g. suites/smoke.yaml")
    ap.add_argument("--set", dest="overrides", action="append", default=None, help=f"spec overrides (default: {' '.join(DEFAULT_SET)})")
    ap.add_argument("--malloc-trim", action="store_true", help="only measure Dask's memory trimming on training (digits, offline)")
    args = ap.parse_args()
    if args.malloc_trim:
        malloc_trim_effect()
        return
    if args.suite == SUITE and not os.environ.get("BENCH_DATA_DIR"):
        sys.exit("set BENCH_DATA_DIR to a folder holding MNIST/raw")
    overrides = args.overrides if args.overrides is not None else (DEFAULT_SET if args.suite == SUITE else [])
    spec = load_suite(args.suite, overrides)
    graph = cell_graph(spec)
    print(f"suite {args.suite.name} with {' '.join(overrides)}: {len(spec.models)} models, {len(graph)} cells")
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        tmp_path = Path(tmp)
        local = bench_run(args.suite, tmp_path / "local", tmp_path / "store-local", overrides, [])
        print(f"local, one cell after another, torch on every core: {local:.1f} s")
        if args.executor == "slurm":
            flags, what = ["--executor", "slurm", "--jobs", str(args.workers), "--cores-per-job", "1"], f"{args.workers} jobs x 1 core"
        else:
            flags, what = (
                ["--executor", "dask", "--workers", str(args.workers), "--threads-per-worker", "1"],
                f"{args.workers} workers x 1 thread",
            )
        dask = bench_run(args.suite, tmp_path / "dask", tmp_path / "store-dask", overrides, flags)
        print(f"{args.executor}, {what}: {dask:.1f} s")
        print(f"wall-time ratio local / {args.executor}: {local / dask:.2f} (above 1: {args.executor} is faster)")
        local_cells = json.loads((tmp_path / "local" / spec.name / "manifest.json").read_text())["cells"]
        cells = json.loads((tmp_path / "dask" / spec.name / "manifest.json").read_text())["cells"]
    over, startup = overheads(cells, graph)
    print(
        f"scheduling overhead per cell ({args.executor} time minus the cell's own seconds): median {statistics.median(over):.3f} s, "
        f"mean {statistics.mean(over):.3f} s, max {max(over):.2f} s over {len(over)} cells (target median <= 0.5 s)"
    )
    print(f"wait for each worker's first cell (cluster or job start-up): {', '.join(f'{s:.1f}' for s in sorted(startup))} s")
    own_local = sum(c.get("seconds", 0.0) for c in local_cells.values())
    own_dask = sum(c["seconds"] for c in cells.values())
    print(f"sum of the cells' own seconds: local {own_local:.1f} s (all cores), {args.executor} {own_dask:.1f} s (1 thread per cell)")

    measured = [PlannedCell(c.name, c.deps, cells[c.name]["seconds"]) for c in graph]
    median_over = max(statistics.median(over), 0.0)
    padded = [PlannedCell(c.name, c.deps, c.cost + median_over) for c in measured]
    chain, longest = critical_path(measured)
    print(f"critical path, measured: {longest:.1f} s over {len(chain)} cells: {' -> '.join(chain)}")
    print(f"{'workers':>8} {'ideal s':>9} {'+overhead s':>12} {'speed-up vs 1 worker':>21}")
    one = ideal_wall_time(measured, 1)
    for n in (1, args.workers, 8, 32, 128):
        ideal = ideal_wall_time(measured, n)
        print(f"{n:8d} {ideal:9.1f} {ideal_wall_time(padded, n):12.1f} {one / ideal:21.2f}")


if __name__ == "__main__":
    main()
