"""Plans a suite as independent cells and runs them, skipping the ones already done.

The run folder is ``<out>/<suite name>/``. A cell's records shard is named by
the hash of everything that determines it, so a re-run finds finished cells by
name and recomputes only what is missing or changed. Failures of single cells
are collected, recorded in the manifest and raised together at the end.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench import provenance
from bench.attacks.base import Target
from bench.cache import ModelStore, atomic_write_text, canonical_hash, default_store_root
from bench.cells import (
    TrainedModel, attack_key, clean_records, make_target, obtain_model, run_attack_cell, sample_hashes,
)
from bench.data import data_roots, load_data
from bench.diagnostics import DIAG_VERSION, diagnose
from bench.errors import BenchError, OutputError, RunFailed
from bench.metrics import CLEAN
from bench.records import read_shard, shard_name, write_shard
from bench.report import write_report
from bench.spec import SuiteSpec, view_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """How to run a suite (everything that is not part of the suite itself)."""

    out: Path
    data_dir: str | None = None
    device: str = "auto"
    store_root: Path | None = None
    force: bool = False
    quiet: bool = True


@dataclass
class RunState:
    """What a run has done so far; written to the manifest."""

    cells: dict[str, dict[str, object]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


def prepare_run_dir(out: Path, name: str) -> Path:
    """Create ``<out>/<name>/records`` or fail with a one-line error."""
    run_dir = out.expanduser().resolve() / name
    try:
        (run_dir / "records").mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{run_dir}: cannot write the run folder ({exc.strerror or exc})") from None
    return run_dir


def topo_models(spec: SuiteSpec) -> list[str]:
    """Model ids with every teacher before its students."""
    order: list[str] = []
    def visit(mid: str) -> None:
        if mid in order:
            return
        m = spec.model(mid)
        if m.teacher:
            visit(m.teacher)
        order.append(mid)
    for m in spec.models:
        visit(m.id)
    return order


def attack_cells(spec: SuiteSpec) -> list[tuple[str, int]]:
    """(model id, attack index) pairs: every attack on each of its target models."""
    evaluated = [m.id for m in spec.models if m.evaluate]
    cells = []
    for i, a in enumerate(spec.attacks):
        for mid in a.models or evaluated:
            if mid != a.source:
                cells.append((mid, i))
    return cells


def run_suite(spec: SuiteSpec, opts: RunOptions) -> Path:
    """Run every cell of ``spec`` that is not done yet, then write tables, plots and the manifest."""
    run_dir = prepare_run_dir(opts.out, spec.name)
    device = provenance.resolve_device(opts.device)
    data = load_data(spec.dataset.name, data_roots(opts.data_dir, spec.dataset.root), spec.seed, spec.dataset.train_size, spec.dataset.eval_size)
    store = ModelStore(opts.store_root or default_store_root())
    manifest = {
        "suite": spec.name, "spec": spec.model_dump(mode="json"), "spec_hash": spec.spec_hash(), "seed": spec.seed,
        "versions": provenance.versions(), "git_commit": provenance.git_commit(), "device": str(device),
        "data": {"name": data.name, "source": data.source, "fingerprint": data.fingerprint,
                 "train_fingerprint": data.train_fingerprint, "eval_fingerprint": data.eval_fingerprint,
                 "n_train": len(data.y_train), "n_eval": len(data.y_eval)},
        "model_store": str(store.root), "started": provenance.now(), "status": "running",
    }
    state = RunState()
    _write_manifest(run_dir, manifest, state)
    try:
        keep = _run_cells(spec, opts, run_dir, data, store, device, state)
        _remove_stale(run_dir, keep)
        manifest["status"] = "failed" if state.failures else "complete"
    except KeyboardInterrupt:
        manifest["status"] = "interrupted"
        raise
    finally:
        manifest["finished"] = provenance.now()
        _write_manifest(run_dir, manifest, state)
    write_report(run_dir)
    if state.failures:
        raise RunFailed(state.failures, str(run_dir))
    return run_dir


def _run_cells(spec: SuiteSpec, opts: RunOptions, run_dir: Path, data, store: ModelStore, device, state: RunState) -> set[str]:
    models: dict[str, TrainedModel] = {}
    keep: set[str] = set()
    hashes = sample_hashes(data.x_eval)
    clean_pred: dict[str, np.ndarray] = {}
    for mid in topo_models(spec):
        m = spec.model(mid)
        teacher = models.get(m.teacher) if m.teacher else None
        if m.teacher and teacher is None:
            state.failures.append((f"train {mid}", f"teacher {m.teacher} is not available"))
            continue
        try:
            tm = obtain_model(m, data, spec.seed, store, device, teacher, quiet=opts.quiet)
        except BenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed model must not stop the other cells
            log.exception("training %s failed", mid)
            state.failures.append((f"train {mid}", f"{type(exc).__name__}: {exc}"))
            continue
        models[mid] = tm
        state.cells[f"train {mid}"] = {"key": tm.key, "origin": tm.origin, "seconds": round(tm.seconds, 2)}
        name = shard_name(mid, CLEAN, canonical_hash([tm.key, data.eval_fingerprint]))
        diag_name = f"{mid}.{canonical_hash([tm.key, data.eval_fingerprint, DIAG_VERSION])[:16]}.csv"
        keep |= {name, diag_name}
        path = run_dir / "records" / name
        if path.exists() and (run_dir / "diagnostics" / diag_name).exists() == m.evaluate and not opts.force:
            clean_pred[mid] = read_shard(path)["clean_pred"].to_numpy()
            continue
        frame = clean_records(tm, data, hashes)
        write_shard(path, frame)
        clean_pred[mid] = frame["clean_pred"].to_numpy()
        if m.evaluate:
            diag = diagnose(mid, tm.module, data.x_eval, data.y_eval, data.eval_index)
            atomic_write_text(run_dir / "diagnostics" / diag_name, diag.to_csv(index=False, float_format="%.9g"))
    targets: dict[tuple[str, str], Target] = {}
    for mid, i in attack_cells(spec):
        a = spec.attacks[i]
        cell = f"{a.id} on {mid}"
        if mid not in models or (a.source and a.source not in models):
            state.failures.append((cell, "its model is not available"))
            continue
        source = models[a.source] if a.source else None
        key = attack_key(a, models[mid], source, data, spec.seed)
        name = shard_name(mid, a.id, key)
        keep.add(name)
        path = run_dir / "records" / name
        if path.exists() and not opts.force:
            state.cells[cell] = {"key": key, "origin": "done"}
            continue
        crafter = source or models[mid]
        tkey = (crafter.spec.id, view_name(a.view))
        if tkey not in targets:
            targets[tkey] = make_target(crafter.module, a.view, data, device)
        start = time.perf_counter()
        try:
            frame = run_attack_cell(a, models[mid], source, targets[tkey], data, clean_pred[mid], hashes, spec.seed, quiet=opts.quiet)
        except Exception as exc:  # noqa: BLE001 - one broken attack must not stop the others
            log.error("attack cell %s failed: %s: %s", cell, type(exc).__name__, exc)
            state.failures.append((cell, f"{type(exc).__name__}: {exc}"))
            continue
        write_shard(path, frame)
        seconds = time.perf_counter() - start
        state.cells[cell] = {"key": key, "origin": "ran", "seconds": round(seconds, 2)}
        log.info("cell %s: %.1fs", cell, seconds)
    return keep


def _remove_stale(run_dir: Path, keep: set[str]) -> None:
    # Shards of cells no longer in the spec would otherwise leak into the tables.
    for folder in ("records", "diagnostics"):
        for path in (run_dir / folder).glob("*.csv"):
            if path.name not in keep:
                path.unlink()


def _write_manifest(run_dir: Path, manifest: dict[str, object], state: RunState) -> None:
    body = dict(manifest, cells=state.cells, failures=[{"cell": c, "error": e} for c, e in state.failures])
    atomic_write_text(run_dir / "manifest.json", json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")
