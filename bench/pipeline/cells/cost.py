"""The cost cell: what one model costs (size, FLOPs, latency measured here and now, its and its teachers' training)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from bench.fsutil import atomic_write_text
from bench.pipeline.cells.provenance import cell_provenance
from bench.pipeline.cells.values import CostCell, ModelRef
from bench.pipeline.cells.workspace import Workspace
from bench.pipeline.measure import costs

log = logging.getLogger(__name__)


def _training_cost(ws: Workspace, ref: ModelRef) -> dict[str, Any]:
    # What training this model took, as the store recorded it when it was trained (a cached model keeps its own).
    entry: dict[str, Any] = {
        "id": ref.id,
        "train_seconds": None,
        "train_cpu_seconds": None,
        "epochs": None,
        "trained_at": None,
        "threads": None,
        "device": None,
    }
    if ref.external is not None or ref.checkpoint is not None:
        return entry | {"origin": "external" if ref.external else "checkpoint"}
    meta_path = ws.store.paths(ref.key)[2]
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return entry | {"origin": "unknown"}
    prov = meta.get("provenance") or {}
    return entry | {
        "origin": "store",
        "train_seconds": meta.get("seconds"),
        "train_cpu_seconds": meta.get("cpu_seconds"),  # None for a model trained before bench kept it
        "epochs": (meta.get("train") or {}).get("epochs"),
        "precision": (meta.get("train") or {}).get("precision", "fp32"),  # a key leaves out the default
        "trained_at": prov.get("computed_at"),
        "threads": prov.get("threads"),
        "device": prov.get("device"),
    }


def measure(cell: CostCell, ws: Workspace) -> dict[str, Any]:
    """Measure one model's size, FLOPs and latency here and now; add its training cost; write its cost file."""
    start = time.perf_counter()
    data = ws.data(cell.data)
    module = ws.module(cell.model, data)
    ref = cell.model
    path = Path(ref.checkpoint or "")
    size = path.stat().st_size if ref.external is not None else costs.state_dict_bytes(module)
    try:
        flops: int | None = costs.flops_per_sample(module, data.x_test.to(ws.device))
        flops_note = ""
    except Exception as exc:  # noqa: BLE001 - a program FlopCounterMode cannot trace still gets its other costs
        flops, flops_note = None, f"FlopCounterMode failed: {type(exc).__name__}: {exc}"
    body = {
        "model": ref.id,
        "arch": ref.arch,
        "weights": ref.weights,
        "params": costs.parameter_count(module),
        "checkpoint_bytes": size,
        "flops_per_sample": flops,
        "flops_note": flops_note,
        "device": str(ws.device),
        **costs.latency(module, data.x_test, ws.device, costs.LatencySettings()),
        "training": _training_cost(ws, ref),
        "teachers": [_training_cost(ws, t) for t in cell.teachers],
    }
    prov = cell_provenance(ws.device, time.perf_counter() - start)
    atomic_write_text(ws.paths.run_dir / cell.output, json.dumps(body | {"measured": prov}, indent=2, sort_keys=True) + "\n")
    log.info("cost %s: %s parameters, %s FLOPs, %.2f ms at batch 1", ref.id, body["params"], flops, body["latency_batch1_ms"])
    if body["noisy"]:
        log.warning("cost %s: latency is noisy: %s; `bench run --force` measures again", ref.id, body["noisy_reason"])
    return {"origin": "measured", "file": cell.output, "computed": prov}
