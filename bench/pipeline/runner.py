"""Plans a suite as cells, executes those not done yet, and collects what happened.

The run folder is ``<out>/<suite name>/``. Each cell writes its outputs under
names that hash everything that determines them, so a re-run finds finished
cells by name (``RunFolder.is_done``) and recomputes only what is missing or
changed. A failed cell is collected, recorded in the manifest and returned;
the ``bench run`` command then draws the report and reports the failures.

Cells run here, one after another (the ``local`` executor), or as Dask tasks
(``bench.pipeline.executors.dask_driver``); both record the same entries and
write the same records.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError, OutputError
from bench.fsutil import atomic_write_text, remove_temp_files
from bench.pipeline import provenance
from bench.pipeline.cells import AttackCell, Cell, DataRef, EvalCell, ModelRef, TrainCell
from bench.pipeline.data import DataBundle, load_data
from bench.pipeline.datasets import data_roots
from bench.pipeline.executors import ExecutorOptions, where_ran
from bench.pipeline.store import default_store_root
from bench.pipeline.work import execute
from bench.pipeline.workspace import Workspace, WorkspacePaths
from bench.results.run_folder import RunFolder
from bench.spec.plan import attack_plan, model_seed, topo_models
from bench.spec.schema import SuiteSpec

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
    executor: ExecutorOptions = ExecutorOptions()


@dataclass
class RunState:
    """What a run has done so far; written to the manifest."""

    cells: dict[str, dict[str, object]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)

    def fail(self, cell: str, exc: BaseException | str) -> None:
        """Record a failed cell; the run goes on with the cells that do not depend on it."""
        why = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        log.error("%s failed: %s", cell, why)
        self.failures.append((cell, why))


@dataclass(frozen=True)
class RunOutcome:
    """Where the run folder is, and the cells that failed (empty when the run is complete)."""

    run_dir: Path
    failures: tuple[tuple[str, str], ...]


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


def run_suite(spec: SuiteSpec, opts: RunOptions) -> RunOutcome:
    """Run every cell of ``spec`` that is not done yet and write the manifest; draw nothing."""
    device = provenance.resolve_device(opts.device)
    roots = data_roots(opts.data_dir, spec.dataset.root)
    data = load_data(spec.dataset.name, roots, spec.seed, spec.dataset.train_size, spec.dataset.eval_size)
    run_dir = prepare_run_dir(opts.out, spec.name)
    paths = WorkspacePaths(run_dir, (opts.store_root or default_store_root()), tuple(roots), str(device), opts.quiet)
    ws = Workspace(paths, data)
    manifest: dict[str, Any] = {
        "suite": spec.name,
        "spec": spec.model_dump(mode="json"),
        "spec_hash": spec.spec_hash(),
        "seed": spec.seed,
        "versions": provenance.versions(),
        "git_commit": provenance.git_commit(),
        "device": str(device),
        "data": {
            "name": data.name,
            "source": data.source,
            "fingerprint": data.fingerprint,
            "train_fingerprint": data.train_fingerprint,
            "eval_fingerprint": data.eval_fingerprint,
            "test_fingerprint": data.test_fingerprint,
            "n_test": len(data.y_test),
            "n_train": len(data.y_train),
            "n_eval": len(data.y_eval),
        },
        "model_store": str(ws.store.root),
        "started": provenance.now(),
        "status": "running",
    }
    state = RunState()
    _write_manifest(run_dir, manifest, state)
    try:
        if opts.executor.kind == "dask":
            from bench.pipeline.executors.dask_driver import run_on_dask

            manifest["executor"] = run_on_dask(spec, data_ref(spec, data), paths, opts.executor, opts.force, opts.quiet, state)
        else:
            manifest["executor"] = {"kind": "local"}
            models = _run_models(spec, opts, ws, data, state)
            _run_attacks(spec, opts, ws, data, models, state)
        if not state.failures:
            # Only a complete run may drop shards: a failed model's earlier results stay for the next try.
            _remove_stale(run_dir, state.keep)
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
    return RunOutcome(run_dir, tuple(state.failures))


def data_ref(spec: SuiteSpec, data: DataBundle) -> DataRef:
    """The suite's data as cells name it: the dataset settings and the fingerprints they must give."""
    d = spec.dataset
    return DataRef(d.name, spec.seed, d.train_size, d.eval_size, data.train_fingerprint, data.eval_fingerprint, data.test_fingerprint)


def _run_models(spec: SuiteSpec, opts: RunOptions, ws: Workspace, data: DataBundle, state: RunState) -> dict[str, ModelRef]:
    """Train or load each model (teachers first), then evaluate it; return the models that are ready."""
    ref = data_ref(spec, data)
    folder = RunFolder(ws.paths.run_dir)
    models: dict[str, ModelRef] = {}
    for mid in topo_models(spec):
        m = spec.model(mid)
        teacher = models.get(m.teacher) if m.teacher else None
        train = TrainCell(m, ref, model_seed(spec, mid), teacher)
        if m.teacher and teacher is None:
            state.fail(train.name, f"teacher {m.teacher} is not available")
            continue
        try:
            done = _execute(train, ws)
            model: ModelRef = done.pop("ref")
            state.cells[train.name] = done
            evaluation = EvalCell(model, ref, diagnose=m.evaluate)
            state.keep |= {Path(p).name for p in evaluation.outputs}
            if opts.force or not folder.is_done(evaluation.outputs):
                state.cells[evaluation.name] = _execute(evaluation, ws)
            else:
                state.cells[evaluation.name] = {"origin": "done"}
        except BenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed model must not stop the other cells
            state.fail(train.name, exc)
            continue
        models[mid] = model
    return models


def _run_attacks(spec: SuiteSpec, opts: RunOptions, ws: Workspace, data: DataBundle, models: dict[str, ModelRef], state: RunState) -> None:
    """Run each attack cell that is not done yet; isolate failures."""
    ref = data_ref(spec, data)
    folder = RunFolder(ws.paths.run_dir)
    for planned in attack_plan(spec):
        a = spec.attacks[planned.attack]
        name = f"{a.id} on {planned.model}"
        if planned.model not in models or (planned.source and planned.source not in models):
            state.fail(name, "its model is not available")
            continue
        cell: Cell = AttackCell(
            a, models[planned.model], ref, model_seed(spec, planned.model), models[planned.source] if planned.source else None
        )
        state.keep |= {Path(p).name for p in cell.outputs}
        if folder.is_done(cell.outputs) and not opts.force:
            state.cells[cell.name] = {"key": cell.key, "origin": "done"}
            continue
        try:
            state.cells[cell.name] = _execute(cell, ws)
        except Exception as exc:  # noqa: BLE001 - one broken attack must not stop the others
            state.fail(cell.name, exc)


def _execute(cell: Cell, ws: Workspace) -> dict[str, Any]:
    """``execute``, plus where and for how long the cell ran, for the manifest."""
    start = time.perf_counter()
    entry = execute(cell, ws)
    entry.setdefault("seconds", round(time.perf_counter() - start, 2))
    return entry | where_ran(ws.paths.device)


def _remove_stale(run_dir: Path, keep: set[str]) -> None:
    # Shards of cells no longer in the spec would otherwise leak into the tables.
    for folder in ("records", "diagnostics"):
        for path in (run_dir / folder).glob("*.csv"):
            if path.name not in keep:
                path.unlink()


def _write_manifest(run_dir: Path, manifest: dict[str, object], state: RunState) -> None:
    body = dict(manifest, cells=state.cells, failures=[{"cell": c, "error": e} for c, e in state.failures])
    atomic_write_text(run_dir / "manifest.json", json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")
