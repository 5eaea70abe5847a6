"""Whole runs of suites/mnist.yaml: a warm re-run's time, and a cold run's breakdown.

* Warm: models cached and every attack cell finished; target <= 10 s. This script runs the
  suite once first if needed (that first run may be cold and slow), then times re-runs.
* Cold: the time of each training cell and attack cell, read from the run's manifest, plus
  reporting. Pass --cold to time a cold run in a fresh model store and run folder.

Run: python benchmarks/runs.py [--repeat 3] [--cold]
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

ROOT = Path(__file__).resolve().parents[1]


def bench_run(out: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench", "run", str(ROOT / "suites" / "mnist.yaml"), "--out", str(out), "-q"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def breakdown(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    cells = manifest["cells"]
    print(f"{'cell':40s} {'origin':8s} {'seconds':>8s}")
    for name, c in cells.items():
        print(f"{name:40s} {c['origin']:8s} {c.get('seconds', 0.0):8.1f}")
    train = sum(c.get("seconds", 0.0) for n, c in cells.items() if n.startswith("train ") and c["origin"] == "trained")
    evaluate = sum(c.get("seconds", 0.0) for n, c in cells.items() if n.startswith("evaluate ") and c["origin"] == "ran")
    attack = sum(c.get("seconds", 0.0) for n, c in cells.items() if not n.startswith(("train ", "evaluate ")) and c["origin"] == "ran")
    print(f"total training {train:.1f} s, clean evaluation {evaluate:.1f} s, attacks {attack:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="also time a cold run in a fresh store (slow)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench-runs")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.cold:
        with tempfile.TemporaryDirectory() as tmp:
            cold_env = dict(env, BENCH_CACHE_DIR=str(Path(tmp) / "store"))
            t = bench_run(Path(tmp) / "out", cold_env)
            print(f"cold run: {t:.1f} s")
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "bench", "report", str(Path(tmp) / "out" / "mnist")], check=True, env=env, stdout=subprocess.DEVNULL
            )
            print(f"reporting alone (bench report): {time.perf_counter() - start:.1f} s")
            breakdown(Path(tmp) / "out" / "mnist")
    first = bench_run(args.out, env)
    print(f"first run into {args.out} (cold or warm, depending on the store): {first:.1f} s")
    warm = [bench_run(args.out, env) for _ in range(args.repeat)]
    print(f"warm re-run: median {statistics.median(warm):.2f} s over {len(warm)} (target <= 10 s): " + ", ".join(f"{t:.2f}" for t in warm))


if __name__ == "__main__":
    main()
