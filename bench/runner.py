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
import torch

from bench import provenance
from bench.attacks.base import Target
from bench.cache import ModelStore, default_store_root
from bench.fsutil import atomic_write_text, canonical_hash, remove_temp_files
from bench.cells import (
    TrainedModel, attack_key, clean_records, make_target, obtain_model, run_attack_cell, sample_hashes,
)
from bench.data import DataBundle, data_roots, load_data
from bench.diagnostics import DIAG_VERSION, diagnose
from bench.errors import BenchError, OutputError, RunFailed
from bench.examples import examples_path
from bench.metrics import CLEAN
from bench.records import read_shard, shard_name, write_shard
from bench.report import write_report
from bench.spec import SuiteSpec, view_name
from bench.sweep import source_for

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
        for folder in ("records", "diagnostics"):
            remove_temp_files(run_dir / folder)
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


def attack_cells(spec: SuiteSpec) -> list[tuple[str, int, str | None]]:
    """(model id, attack index, source id) triples: every attack on each of its target models."""
    evaluated = [m.id for m in spec.models if m.evaluate]
    cells = []
    for i, a in enumerate(spec.attacks):
        for mid in a.models or evaluated:
            source = source_for(spec, a.source, mid) if a.source else None
            if mid != source:
                cells.append((mid, i, source))
    return cells


def estimate_cost(spec: SuiteSpec, cells: list[tuple[str, int, str | None]]) -> tuple[float, float]:
    """Rough cold-run seconds (training, attacks) from pass counts and measured per-architecture speeds."""
    from bench.attacks import ATTACKS
    from bench.data import DATASETS
    from bench.models import ARCHITECTURES

    n_train = spec.dataset.train_size or DATASETS.get(spec.dataset.name).n_train
    train = sum(m.train.epochs * n_train / ARCHITECTURES.get(m.arch).passes_per_second for m in spec.models if not m.checkpoint)
    attack = 0.0
    for mid, i, source in cells:
        a = spec.attacks[i]
        cls = ATTACKS.get(a.use)
        n = min(a.n_samples or spec.dataset.eval_size, spec.dataset.eval_size)
        passes = n * max(len(a.eps), 1) * cls.gradient_evals(cls.Params.model_validate(a.params))
        attack += passes / ARCHITECTURES.get(spec.model(source or mid).arch).passes_per_second
    return train, attack


def model_seed(spec: SuiteSpec, model_id: str) -> int:
    """A model's own seed (from a seed sweep), else the suite's."""
    seed = spec.model(model_id).seed
    return spec.seed if seed is None else seed


def run_suite(spec: SuiteSpec, opts: RunOptions) -> Path:
    """Run every cell of ``spec`` that is not done yet, then write tables, plots and the manifest."""
    device = provenance.resolve_device(opts.device)
    data = load_data(spec.dataset.name, data_roots(opts.data_dir, spec.dataset.root), spec.seed, spec.dataset.train_size, spec.dataset.eval_size)
    run_dir = prepare_run_dir(opts.out, spec.name)
    store = ModelStore(opts.store_root or default_store_root())
    manifest = {
        "suite": spec.name, "spec": spec.model_dump(mode="json"), "spec_hash": spec.spec_hash(), "seed": spec.seed,
        "versions": provenance.versions(), "git_commit": provenance.git_commit(), "device": str(device),
        "data": {"name": data.name, "source": data.source, "fingerprint": data.fingerprint,
                 "train_fingerprint": data.train_fingerprint, "eval_fingerprint": data.eval_fingerprint,
                 "test_fingerprint": data.test_fingerprint, "n_test": len(data.y_test),
                 "n_train": len(data.y_train), "n_eval": len(data.y_eval)},
        "model_store": str(store.root), "started": provenance.now(), "status": "running",
    }
    state = RunState()
    _write_manifest(run_dir, manifest, state)
    ctx = _Context(spec, opts, run_dir, data, store, device, state)
    try:
        _run_models(ctx)
        _run_attacks(ctx)
        if not state.failures:
            # Only a complete run may drop shards: a failed model's earlier results stay for the next try.
            _remove_stale(run_dir, ctx.keep)
        manifest["status"] = "failed" if state.failures else "complete"
    except KeyboardInterrupt:
        manifest["status"] = "interrupted"
        raise
    except BaseException as exc:
        manifest["status"] = f"error: {type(exc).__name__}: {exc}"
        raise
    finally:
        manifest["finished"] = provenance.now()
        _write_manifest(run_dir, manifest, state)
    write_report(run_dir)
    if state.failures:
        raise RunFailed(state.failures, str(run_dir))
    return run_dir


@dataclass
class _Context:
    """Everything the cells of one run share."""

    spec: SuiteSpec
    opts: RunOptions
    run_dir: Path
    data: DataBundle
    store: ModelStore
    device: torch.device
    state: RunState
    models: dict[str, TrainedModel] = field(default_factory=dict)
    clean_pred: dict[str, np.ndarray] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)
    test_hashes: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)

    def fail(self, cell: str, exc: BaseException | str) -> None:
        why = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        log.error("%s failed: %s", cell, why)
        self.state.failures.append((cell, why))


def _run_models(ctx: _Context) -> None:
    """Train or load each model, then write its clean shard and (if attacked) its diagnostics."""
    ctx.test_hashes = sample_hashes(ctx.data.x_test)
    ctx.hashes = [ctx.test_hashes[i] for i in ctx.data.eval_index]
    for mid in topo_models(ctx.spec):
        m = ctx.spec.model(mid)
        teacher = ctx.models.get(m.teacher) if m.teacher else None
        if m.teacher and teacher is None:
            ctx.fail(f"train {mid}", f"teacher {m.teacher} is not available")
            continue
        try:
            tm = obtain_model(m, ctx.data, model_seed(ctx.spec, mid), ctx.store, ctx.device, teacher, quiet=ctx.opts.quiet)
            ctx.state.cells[f"train {mid}"] = {"key": tm.key, "weights": tm.weights, "origin": tm.origin, "seconds": round(tm.seconds, 2)}
            _evaluate_clean(ctx, tm)
        except BenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed model must not stop the other cells
            ctx.fail(f"train {mid}", exc)
            continue
        ctx.models[mid] = tm


def _evaluate_clean(ctx: _Context, tm: TrainedModel) -> None:
    mid, data = tm.spec.id, ctx.data
    name = shard_name(mid, CLEAN, canonical_hash([tm.weights, data.test_fingerprint]))
    diag_name = f"{mid}.{canonical_hash([tm.weights, data.eval_fingerprint, DIAG_VERSION])[:16]}.csv"
    ctx.keep |= {name, diag_name}
    path, diag_path = ctx.run_dir / "records" / name, ctx.run_dir / "diagnostics" / diag_name
    if path.exists() and (diag_path.exists() or not tm.spec.evaluate) and not ctx.opts.force:
        ctx.clean_pred[mid] = read_shard(path)["clean_pred"].to_numpy()[data.eval_index]
        return
    frame = clean_records(tm, data, ctx.test_hashes)
    if tm.spec.evaluate:
        diag = diagnose(mid, tm.module, data.x_eval, data.y_eval, data.eval_index)
        atomic_write_text(diag_path, diag.to_csv(index=False, float_format="%.9g"))
        _drop_older(diag_path)
    replace_shard(path, frame)
    ctx.clean_pred[mid] = frame["clean_pred"].to_numpy()[data.eval_index]


def _run_attacks(ctx: _Context) -> None:
    """Run each attack cell whose shard does not exist yet; isolate failures."""
    targets: dict[tuple[str, str], Target] = {}
    for mid, i, source_id in attack_cells(ctx.spec):
        a = ctx.spec.attacks[i]
        cell = f"{a.id} on {mid}"
        if mid not in ctx.models or (source_id and source_id not in ctx.models):
            ctx.fail(cell, "its model is not available")
            continue
        model, source = ctx.models[mid], ctx.models.get(source_id) if source_id else None
        seed = model_seed(ctx.spec, mid)
        key = attack_key(a, model, source, ctx.data, seed)
        name = shard_name(mid, a.id, key)
        ctx.keep.add(name)
        path = ctx.run_dir / "records" / name
        if path.exists() and not ctx.opts.force:
            ctx.state.cells[cell] = {"key": key, "origin": "done"}
            continue
        crafter = source or model
        tkey = (crafter.spec.id, view_name(a.view))
        start = time.perf_counter()
        try:
            if tkey not in targets:
                targets[tkey] = make_target(crafter.module, a.view, ctx.data, ctx.device)
            frame = run_attack_cell(a, model, source, targets[tkey], ctx.data, ctx.clean_pred[mid], ctx.hashes, seed,
                                    quiet=ctx.opts.quiet, examples=examples_path(ctx.run_dir, mid, a.id))
            replace_shard(path, frame)
        except Exception as exc:  # noqa: BLE001 - one broken attack must not stop the others
            ctx.fail(cell, exc)
            continue
        seconds = time.perf_counter() - start
        ctx.state.cells[cell] = {"key": key, "origin": "ran", "seconds": round(seconds, 2), "projected": int(frame["projected"].sum())}
        log.info("cell %s: %.1fs", cell, seconds)


def _drop_older(path: Path) -> None:
    # The same cell under an older key (an edited attack, retrained weights): without this, an
    # interrupted run would leave both versions for `bench report` to count twice.
    prefix = path.name.split(".", 1)[0] + "."
    for other in path.parent.glob(prefix + "*.csv"):
        if other != path:
            other.unlink(missing_ok=True)


def replace_shard(path: Path, frame) -> None:
    """Write a cell's shard atomically, then remove that cell's shards under older keys."""
    write_shard(path, frame)
    _drop_older(path)


def _remove_stale(run_dir: Path, keep: set[str]) -> None:
    # Shards of cells no longer in the spec would otherwise leak into the tables.
    for folder in ("records", "diagnostics"):
        for path in (run_dir / folder).glob("*.csv"):
            if path.name not in keep:
                path.unlink()


def _write_manifest(run_dir: Path, manifest: dict[str, object], state: RunState) -> None:
    body = dict(manifest, cells=state.cells, failures=[{"cell": c, "error": e} for c, e in state.failures])
    atomic_write_text(run_dir / "manifest.json", json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")
