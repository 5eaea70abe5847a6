"""What each model of a run costs, read from the run folder's ``costs/*.json`` (one file per model and measurement).

``bench run`` measures every model once it is trained (``bench.pipeline.cells.cost.measure``):
parameters, checkpoint bytes, FLOPs per sample (torch's ``FlopCounterMode``), the median
latency of repeated forward passes at batch 1 and at a large batch with the thread count
(``noisy``, with ``noisy_reason``, when the machine was too busy to trust it),
and the training cost the model store recorded when the model (and each of its teachers)
was trained. This module turns those files into one table, ``costs.csv``:

* ``train_seconds``, ``epochs``: the model's own training (wall time);
* ``train_precision``: ``fp32`` or ``bf16`` (``train.precision``), empty for a model bench did not train;
* ``train_cpu_seconds``: the CPU time of that training, over all the process's threads
  (a busy training on N threads shows up to N times its wall time; one paused, or
  sharing its cores with another job, shows well under it: ``starved_training``);
* ``total_train_seconds``, ``total_train_cpu_seconds``, ``total_epochs``: its own plus its chain of teachers, each
  teacher once; a teacher shared by several students is in each student's total, but the
  run's total (``run_training_seconds``) counts every model once;
* NaN where a cost is unknown: a model loaded from a checkpoint or an external program
  has no training cost, and a program FlopCounterMode cannot trace has no FLOPs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bench.results.metrics import eps_key, shared_eps
from bench.results.run_folder import RunFolder

COSTS = "costs"
# Under this many CPU seconds per wall second, a measurement's process was suspended or starved of CPU: a latency
# is then flagged noisy (bench.pipeline.measure.costs), a training's wall time said not to be the model's cost.
CPU_SHARE_LIMIT = 0.5
COST_COLUMNS = [
    "model",
    "arch",
    "kind",
    "temperature",
    "teacher",
    "params",
    "checkpoint_bytes",
    "flops_per_sample",
    "latency_batch1_ms",
    "latency_large_ms",
    "large_batch",
    "latency_large_per_sample_ms",
    "noisy",
    "noisy_reason",
    "threads",
    "device",
    "train_seconds",
    "train_cpu_seconds",
    "train_precision",
    "epochs",
    "total_train_seconds",
    "total_train_cpu_seconds",
    "total_epochs",
    "measured_at",
    "trained_at",
]


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan


def _cost_files(run: RunFolder) -> list[Path]:
    # The files the last run names; a folder without that list (older runs) gives every file, newest per model wins.
    listed = run.manifest.get("costs")
    if isinstance(listed, Mapping):
        names = [str((v or {}).get("file", "")) for v in listed.values() if isinstance(v, Mapping)]
        return [run.path / n for n in names if n and (run.path / n).is_file()]
    return sorted((run.path / COSTS).glob("*.json"))


def read_cost_bodies(run: RunFolder) -> list[dict[str, Any]]:
    """The cost files of the run's models (one per model: the latest measurement when several are found)."""
    by_model: dict[str, dict[str, Any]] = {}
    for path in _cost_files(run):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(body, dict) or "model" not in body:
            continue
        old = by_model.get(str(body["model"]))
        when = str((body.get("measured") or {}).get("computed_at", ""))
        if old is None or when >= str((old.get("measured") or {}).get("computed_at", "")):
            by_model[str(body["model"])] = body
    return list(by_model.values())


def model_specs(spec: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The manifest's resolved spec, model id -> its spec entry (kind, teacher, train)."""
    models = (spec or {}).get("models") or []
    return {str(m["id"]): m for m in models if isinstance(m, Mapping) and "id" in m}


def cost_table(bodies: list[dict[str, Any]], spec: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per model, in the spec's model order (then by id): see the module docstring for the columns."""
    specs = model_specs(spec)
    rows = []
    for b in bodies:
        mid = str(b["model"])
        m = specs.get(mid, {})
        own = b.get("training") or {}
        chain = [own, *(b.get("teachers") or [])]
        seconds = [_num(t.get("train_seconds")) for t in chain]
        cpu = [_num(t.get("train_cpu_seconds")) for t in chain]  # NaN for a model trained before bench kept it
        epochs = [_num(t.get("epochs")) for t in chain]
        rows.append(
            {
                "model": mid,
                "arch": b.get("arch") or "external",
                "kind": m.get("kind", ""),
                "temperature": _num((m.get("train") or {}).get("temperature")) if m.get("kind") != "external" else math.nan,
                "teacher": m.get("teacher") or "",
                "params": _num(b.get("params")),
                "checkpoint_bytes": _num(b.get("checkpoint_bytes")),
                "flops_per_sample": _num(b.get("flops_per_sample")),
                "latency_batch1_ms": _num(b.get("latency_batch1_ms")),
                "latency_large_ms": _num(b.get("latency_large_ms")),
                "large_batch": _num(b.get("large_batch")),
                "latency_large_per_sample_ms": _num(b.get("latency_large_per_sample_ms")),
                # Measurements from before bench judged them carry no flag: nothing is known, so nothing is claimed.
                "noisy": bool(b.get("noisy", False)),
                "noisy_reason": str(b.get("noisy_reason") or ""),
                "threads": _num(b.get("threads")),
                "device": str(b.get("device", "")),
                "train_seconds": seconds[0],
                "train_cpu_seconds": cpu[0],
                # Every model bench trained before it had a precision setting was trained in fp32.
                "train_precision": str(own.get("precision") or ("fp32" if own.get("origin") == "store" else "")),
                "epochs": epochs[0],
                "total_train_seconds": sum(seconds),  # NaN when any link of the chain is unknown
                "total_train_cpu_seconds": sum(cpu),
                "total_epochs": sum(epochs),
                "measured_at": str((b.get("measured") or {}).get("computed_at", "")),
                "trained_at": str(own.get("trained_at") or ""),
            }
        )
    order = {mid: i for i, mid in enumerate(specs)}
    frame = pd.DataFrame(rows, columns=COST_COLUMNS)
    if not len(frame):
        return frame
    frame = frame.assign(_o=[order.get(m, len(order)) for m in frame["model"]]).sort_values(["_o", "model"], kind="stable")
    return frame.drop(columns="_o").reset_index(drop=True)


def read_costs(run_dir: Path) -> pd.DataFrame:
    """The cost table of a run folder (empty when it has no cost files, e.g. a run from before costs were measured)."""
    run = RunFolder(run_dir)
    return cost_table(read_cost_bodies(run), run.manifest.get("spec"))


def starved_training(costs: pd.DataFrame) -> dict[str, str]:
    """Model -> why its training wall time overstates its cost: it got under ``CPU_SHARE_LIMIT`` CPU seconds per second."""
    out = {}
    for r in costs.to_dict("records"):
        wall, cpu = r["train_seconds"], r["train_cpu_seconds"]
        if not (math.isnan(wall) or math.isnan(cpu)) and wall > 0 and cpu < CPU_SHARE_LIMIT * wall:
            out[str(r["model"])] = f"wall {wall:.0f} s but CPU {cpu:.0f} s: the training was paused or shared its cores"
    return out


def run_training_seconds(costs: pd.DataFrame) -> float:
    """The training time of the whole run, every model counted once (a shared teacher too); NaN if any is unknown."""
    return float(costs["train_seconds"].sum(skipna=False)) if len(costs) else math.nan


def robust_column(tag: str, eps: float) -> str:
    """``adaptive@0.3``: the column of ``accuracy_vs_cost`` that holds a group's worst case at ``eps``."""
    return f"{tag}@{eps:g}"


def accuracy_vs_cost(
    costs: pd.DataFrame, clean: pd.DataFrame, nva: pd.DataFrame, max_eps: int = 3
) -> tuple[pd.DataFrame, str, list[float]]:
    """Per model: its cost, clean accuracy (whole test split) and worst-case robust accuracy; with the norm and the eps.

    The robust accuracies are the naive-vs-adaptive table's, per sample worst cases under the
    naive and under the adaptive attacks (columns ``naive@<eps>``, ``adaptive@<eps>``), at one
    norm (L∞ when there is one) and at the (at most ``max_eps`` largest) eps every model there
    was compared at. A model without a row there has NaN.
    """
    frame = costs[["model", "arch", "kind", "temperature", "teacher", "params", "flops_per_sample", "latency_batch1_ms"]].copy()
    acc = dict(zip(clean["model"].astype(str), clean["clean_accuracy"], strict=True)) if len(clean) else {}
    frame["clean_accuracy"] = [acc.get(m, math.nan) for m in frame["model"]]
    if not len(nva):
        return frame, "", []
    norms = list(dict.fromkeys(nva["norm"]))
    norm = "linf" if "linf" in norms else norms[0]
    g = nva[nva["norm"] == norm]
    shared = shared_eps(m["eps"].astype(float) for _, m in g.groupby("model", sort=False))
    chosen = [eps_key(e) for e in shared if math.isfinite(e)][-max_eps:]
    for e in chosen:
        at = g[g["eps"].map(eps_key) == e]
        for tag in ("naive", "adaptive"):
            values = dict(zip(at["model"].astype(str), at[f"{tag}_robust_accuracy"], strict=True))
            frame[robust_column(tag, e)] = [values.get(m, math.nan) for m in frame["model"]]
    return frame, norm, chosen
