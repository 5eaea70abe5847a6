"""The train cell: obtain one model from its checkpoint, a program file or the model store, or train it and store it.

The training loops themselves are ``bench.pipeline.training``; this module is what a
run does around them: seed the initial weights, soft labels from the teacher, the
store's lock and first-writer-wins publishing, and the ``ModelRef`` later cells use.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch

from bench.errors import CacheError
from bench.fsutil import file_sha256
from bench.pipeline.cells.keys import architecture_code, weights_digest
from bench.pipeline.cells.provenance import cell_provenance
from bench.pipeline.cells.values import ModelRef, TrainCell
from bench.pipeline.cells.workspace import Workspace
from bench.pipeline.data.bundle import DataBundle
from bench.pipeline.models import external
from bench.pipeline.models.networks import build_model, load_weights
from bench.pipeline.models.store import load_state_dict
from bench.pipeline.training import fit
from bench.pipeline.training.plain import predict_logits, soft_labels
from bench.spec.schema import ModelSpec

log = logging.getLogger(__name__)


def train(cell: TrainCell, ws: Workspace) -> dict[str, Any]:
    """Load the model from its checkpoint or the store, or train and store it."""
    spec, data = cell.model, ws.data(cell.data)
    start, cpu_start = time.perf_counter(), time.process_time()
    if spec.kind == "external":
        return _external(cell, ws, start)
    torch.manual_seed(cell.seed)  # the initial weights, if this model gets trained below
    module = build_model(spec.arch, data.shape, data.n_classes)
    if spec.checkpoint is not None:
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise CacheError(f"models[{spec.id}].checkpoint: no such file {path}")
        state = load_state_dict(path)
        load_weights(module, state, str(path), spec.arch)
        sha = weights_digest(state)
        ref = ModelRef(spec.id, spec.arch, cell.key(sha), sha, architecture_code(spec.arch), str(path))
        return _trained(ws, ref, module, "checkpoint", start, cell_provenance(ws.device, time.perf_counter() - start))
    key = cell.key()
    with ws.store.lock(key):
        stored = from_store(ws, spec, data, key, start)
        if stored is not None:
            return stored
        targets = None
        if spec.kind == "student":
            if cell.teacher is None:
                raise CacheError(f"models[{spec.id}]: a student needs its teacher's weights")
            targets = soft_labels(ws.module(cell.teacher, data), data.x_train, spec.train.temperature)
        module.to(ws.device)
        fit(module, data.x_train, data.y_train, spec.train, cell.seed, soft_targets=targets, desc=f"train {spec.id}", quiet=ws.paths.quiet)
        seconds = time.perf_counter() - start
        # CPU seconds over all of this process's threads: wall >> CPU says the training was paused or shared its cores.
        cpu_seconds = time.process_time() - cpu_start
        acc = float((predict_logits(module, data.x_test).argmax(1).cpu() == data.y_test).float().mean())
        prov = cell_provenance(ws.device, seconds)
        meta = {
            "id": spec.id,
            "kind": spec.kind,
            "arch": spec.arch,
            "train": spec.train.canonical(),
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2),
            "test_accuracy": acc,
            "data": data.train_fingerprint,
            "provenance": prov,
        }
        mine = weights_digest(module.state_dict())
        if not ws.store.save(key, module.state_dict(), meta):
            # Another run published this recipe while we trained (no shared lock across machines): its weights stand.
            found = ws.store.load(key)
            if found is None:
                raise CacheError(f"model {spec.id}: another run published it first, but its checkpoint cannot be read (key {key[:12]})")
            load_weights(module, found[0], f"cache {key[:12]}", spec.arch)
            ref = ModelRef(spec.id, spec.arch, key, weights_digest(found[0]), architecture_code(spec.arch))
            extra = {"raced": True, "discarded_weights": mine}
            return _trained(ws, ref, module, "cache", start, found[1].get("provenance"), extra)
        log.info("model %s: trained in %.1fs, clean accuracy %.4f", spec.id, seconds, acc)
    ref = ModelRef(spec.id, spec.arch, key, mine, architecture_code(spec.arch))
    return _trained(ws, ref, module, "trained", start, prov)


def from_store(ws: Workspace, spec: ModelSpec, data: DataBundle, key: str, start: float | None = None) -> dict[str, Any] | None:
    """The model stored under ``key``, loaded into this process as a train cell's entry (``"ref"``); None if not stored.

    ``bench costs`` loads a finished run's models by the keys its manifest recorded, which code changed since then
    no longer derives."""
    found = ws.store.load(key)
    if found is None:
        return None
    module = build_model(spec.arch, data.shape, data.n_classes)
    load_weights(module, found[0], f"cache {key[:12]}", spec.arch)
    log.info("model %s: loaded from the store (%s)", spec.id, key[:12])
    ref = ModelRef(spec.id, spec.arch, key, weights_digest(found[0]), architecture_code(spec.arch))
    return _trained(ws, ref, module, "cache", time.perf_counter() if start is None else start, found[1].get("provenance"))


def _external(cell: TrainCell, ws: Workspace, start: float) -> dict[str, Any]:
    # A program file: loaded, checked against the data's classes, keyed by the file's sha256; never trained.
    spec, data = cell.model, ws.data(cell.data)
    path = Path(spec.checkpoint or "")
    where = f"models[{spec.id}].checkpoint"
    module = external.load_program(path)
    external.check_outputs(module, data.x_test, data.n_classes, data.name, where)
    sha = file_sha256(path)
    ref = ModelRef(spec.id, None, cell.key(sha), sha, architecture_code(None), str(path), module.format)
    log.info("model %s: %s program %s (sha256 %s)", spec.id, module.format, path.name, sha[:12])
    return _trained(ws, ref, module, "external", start, cell_provenance(ws.device, time.perf_counter() - start))


def _trained(
    ws: Workspace,
    ref: ModelRef,
    module: torch.nn.Module,
    origin: str,
    start: float,
    prov: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ws.remember(ref, module.to(ws.device).eval())
    entry = {"ref": ref, "key": ref.key, "weights": ref.weights, "origin": origin, "seconds": round(time.perf_counter() - start, 2)}
    return entry | {"computed": prov} | (extra or {})
