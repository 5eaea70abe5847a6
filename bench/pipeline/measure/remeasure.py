"""Measure a finished run's costs again (``bench costs``): stored models only, nothing trained, no record touched.

Latency depends on the machine at the moment it was timed (``bench.pipeline.measure.costs``).
A run measured on a busy machine can be measured again later, on a quiet one: the models
come from the model store under the keys the run's manifest recorded (a later bench whose
training code changed derives other keys for the same recipes), each cost cell runs again,
and only the cost files (and the manifest's list of them) change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench.catalogue.datasets import data_roots
from bench.errors import BenchError
from bench.fsutil import atomic_write_text
from bench.pipeline.cells import provenance
from bench.pipeline.cells.build import cost_cell, defended_ref, train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.train import from_store
from bench.pipeline.cells.values import DataRef, ModelRef
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.data.bundle import DataBundle, load_data
from bench.pipeline.models.store import default_store_root
from bench.pipeline.runner import data_ref
from bench.results.run_folder import RunFolder
from bench.spec.plan import model_seed, topo_models
from bench.spec.schema import SuiteSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredRun:
    """A finished run opened again: its folder, spec, data, a workspace on them, and its models behind their defences."""

    folder: RunFolder
    spec: SuiteSpec
    data: DataBundle
    ws: Workspace
    ref: DataRef
    models: dict[str, ModelRef]


def open_stored_run(run_dir: Path, why: str, data_dir: str | None, store_root: Path | None, device: str, train_missing: bool) -> StoredRun:
    """The run in ``run_dir`` with its models from the model store under the keys the run used.

    A model missing from the store is trained again, exactly as ``bench run`` would, when
    ``train_missing``; otherwise it is an error. ``why`` says what needs the run's manifest.
    """
    folder = RunFolder(run_dir)
    spec = SuiteSpec.model_validate(folder.require_manifest(why)["spec"])
    roots = data_roots(data_dir, spec.dataset.root)
    data = load_data(spec.dataset.name, roots, spec.seed, spec.dataset.train_size, spec.dataset.eval_size, spec.dataset.path)
    dev = provenance.resolve_device(device)
    store = (store_root or default_store_root()).expanduser().resolve()
    ws = Workspace(WorkspacePaths(folder.path, store, tuple(roots), str(dev), True, tuple(spec.plugins)), data)
    ref = data_ref(spec, data)
    cells = folder.manifest.get("cells") or {}
    networks: dict[str, ModelRef] = {}  # as trained: a student's teacher
    models: dict[str, ModelRef] = {}
    for mid in topo_models(spec):
        m = spec.model(mid)
        cell = train_cell(m, ref, model_seed(spec, mid), ws.runtime, networks.get(m.teacher) if m.teacher else None)
        stored = m.kind != "external" and m.checkpoint is None
        # The key the run recorded first: training code changed since the run derives another key for the same recipe.
        recorded = str((cells.get(f"train {mid}") or {}).get("key") or "")
        entry = from_store(ws, m, data, recorded) if stored and recorded and recorded != cell.key() else None
        if entry is None and stored and not train_missing and ws.store.load(cell.key()) is None:
            raise BenchError(f"model {mid}: not in the model store {store}; bench costs never trains: run the suite first")
        networks[mid] = (entry or execute(cell, ws))["ref"]
        models[mid] = defended_ref(networks[mid], m)
    return StoredRun(folder, spec, data, ws, ref, models)


def remeasure_costs(
    run_dir: Path,
    model_ids: tuple[str, ...] = (),
    data_dir: str | None = None,
    store_root: Path | None = None,
    device: str = "auto",
) -> list[dict[str, Any]]:
    """Measure again the cost of every model of a finished run (or of ``model_ids``); return the new cost files' bodies.

    A model that is not in the store (and has no checkpoint or program file) is an error:
    this command never trains.
    """
    folder = RunFolder(run_dir)
    spec = SuiteSpec.model_validate(folder.require_manifest("bench costs needs the run's spec")["spec"])
    known = [m.id for m in spec.models]
    unknown = [m for m in model_ids if m not in known]
    if unknown:
        raise BenchError(f"--model: no model {', '.join(unknown)} in this run (it has {', '.join(known)})")
    run = open_stored_run(run_dir, "bench costs needs the run's spec", data_dir, store_root, device, train_missing=False)
    ws, models = run.ws, run.models
    manifest = folder.manifest
    costs = dict(manifest.get("costs") or {})
    bodies = []
    for mid in model_ids or tuple(known):
        chain, cur = [], spec.model(mid).teacher
        while cur is not None:
            chain.append(models[cur])
            cur = spec.model(cur).teacher
        cell = cost_cell(models[mid], tuple(chain), run.ref, ws.runtime, ws.paths.device, torch.get_num_threads())
        costs[mid] = execute(cell, ws)
        bodies.append(json.loads((folder.path / cell.output).read_text(encoding="utf-8")))
    # The manifest names each model's cost file: the report reads the new ones, and the old ones are no longer listed.
    atomic_write_text(folder.path / "manifest.json", json.dumps(manifest | {"costs": costs}, indent=2, sort_keys=True, default=str) + "\n")
    return bodies
