"""Plans a suite as cells, executes those not done yet, and collects what happened.

The run folder is ``<out>/<suite name>/``. Each cell writes its outputs under
names that hash everything that determines them, so a re-run finds finished
cells by name (``RunFolder.is_done``) and recomputes only what is missing or
changed. A failed cell is collected, recorded in the manifest and returned;
the ``bench run`` command then draws the report and reports the failures.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.attacks import ATTACKS
from bench.errors import BenchError, OutputError
from bench.fsutil import atomic_write_text, remove_temp_files
from bench.pipeline import preflight, provenance
from bench.pipeline.architectures import ARCHITECTURES
from bench.pipeline.cells import AttackCell, Cell, DataRef, EvalCell, ModelRef, TrainCell
from bench.pipeline.data import DataBundle, load_data
from bench.pipeline.datasets import DATASETS, data_roots
from bench.pipeline.fingerprint import BASE_PACKAGES, attack_packages
from bench.pipeline.store import default_store_root
from bench.pipeline.work import attack_code, evaluate_code, execute, train_code
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


@dataclass
class RunState:
    """What a run has done so far; written to the manifest."""

    cells: dict[str, dict[str, object]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)
    clean: dict[str, str] = field(default_factory=dict)  # model id -> its clean shard, which attack cells read

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
    data = load_data(spec.dataset.name, roots, spec.seed, spec.dataset.train_size, spec.dataset.eval_size, spec.dataset.path)
    preflight.check_models(spec, data)
    run_dir = prepare_run_dir(opts.out, spec.name)
    store = (opts.store_root or default_store_root()).expanduser().resolve()
    paths = WorkspacePaths(run_dir, store, tuple(roots), str(device), opts.quiet, tuple(spec.plugins))
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
        "origins": origins(spec),
        "runtime": asdict(ws.runtime),
        "model_store": str(ws.store.root),
        # When this invocation ran; each cell's own "computed" says when its numbers were made.
        "started": provenance.now(),
        "status": "running",
    }
    state = RunState()
    _write_manifest(run_dir, manifest, state)
    try:
        models = _run_models(spec, opts, ws, data, state)
        _run_attacks(spec, opts, ws, data, models, state)
        if not state.failures:
            # Only a complete run may drop shards: a failed model's earlier results stay for the next try.
            _remove_stale(run_dir, state.keep)
        # Only these files feed the tables: a failed cell's older shard stays on disk but is not reported.
        manifest["outputs"] = sorted(state.keep)
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
    fingerprints = (data.train_fingerprint, data.eval_fingerprint, data.test_fingerprint)
    return DataRef(d.name, spec.seed, d.train_size, d.eval_size, *fingerprints, d.path)


def origins(spec: SuiteSpec) -> dict[str, dict[str, str]]:
    """Where each registry key the suite uses came from: ``bench``, an installed package, or a plug-in module."""
    archs = sorted({m.arch for m in spec.models if m.arch is not None})
    return {
        "plugins": {name: str(getattr(sys.modules.get(name), "__file__", "")) for name in spec.plugins},
        "datasets": {spec.dataset.name: DATASETS.origin(spec.dataset.name)},
        "architectures": {a: ARCHITECTURES.origin(a) for a in archs},
        "attacks": {use: ATTACKS.origin(use) for use in sorted({a.use for a in spec.attacks})},
    }


def _run_models(spec: SuiteSpec, opts: RunOptions, ws: Workspace, data: DataBundle, state: RunState) -> dict[str, ModelRef]:
    """Train or load each model (teachers first), then evaluate it; return the models that are ready."""
    ref = data_ref(spec, data)
    folder = RunFolder(ws.paths.run_dir)
    models: dict[str, ModelRef] = {}
    clean = state.clean
    base = ws.runtime.subset(BASE_PACKAGES)
    for mid in topo_models(spec):
        m = spec.model(mid)
        teacher = models.get(m.teacher) if m.teacher else None
        train = TrainCell(m, ref, model_seed(spec, mid), base, train_code(m.arch), teacher)
        if m.teacher and teacher is None:
            state.fail(train.name, f"teacher {m.teacher} is not available")
            continue
        try:
            done = execute(train, ws)
            model: ModelRef = done.pop("ref")
            state.cells[train.name] = done
            evaluation = EvalCell(model, ref, m.evaluate, base, evaluate_code())
            state.keep |= {Path(p).name for p in evaluation.outputs}
            if opts.force or not folder.is_done(evaluation.outputs):
                state.cells[evaluation.name] = execute(evaluation, ws)
            else:
                state.cells[evaluation.name] = {"origin": "done", "computed": folder.provenance(evaluation.shard)}
            clean[mid] = Path(evaluation.shard).name
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
    ran = 0
    for planned in attack_plan(spec):
        a = spec.attacks[planned.attack]
        name = f"{a.id} on {planned.model}"
        if planned.model not in models or (planned.source and planned.source not in models):
            state.fail(name, "its model is not available")
            continue
        source = models[planned.source] if planned.source else None
        seed = model_seed(spec, planned.model)
        runtime = ws.runtime.subset(attack_packages(a.use))
        cell: Cell = AttackCell(a, models[planned.model], ref, seed, runtime, attack_code(a.use), state.clean[planned.model], source)
        state.keep |= {Path(p).name for p in cell.outputs}
        if folder.is_done(cell.outputs) and not opts.force:
            state.cells[cell.name] = {"key": cell.key, "origin": "done", "computed": folder.provenance(cell.shard)}
            continue
        try:
            state.cells[cell.name] = execute(cell, ws)
        except Exception as exc:  # noqa: BLE001 - one broken attack must not stop the others
            state.fail(cell.name, exc)
        ran += 1
        _pause_for_tests(ws.paths.run_dir, ran)


PAUSE_ENV = "BENCH_TEST_PAUSE_AFTER_CELLS"


def _pause_for_tests(run_dir: Path, ran: int) -> None:
    """Test hook: with $BENCH_TEST_PAUSE_AFTER_CELLS=N, stop after N attack cells of this invocation, say so, and wait.

    Tests that interrupt or kill a run use it to signal at a known point instead of
    guessing with a clock; nothing else sets the variable.
    """
    after = os.environ.get(PAUSE_ENV)
    if not after or ran != int(after):
        return
    (run_dir / ".paused").write_text(str(ran))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)


def _remove_stale(run_dir: Path, keep: set[str]) -> None:
    # Shards of cells no longer in the spec would otherwise leak into the tables.
    for folder in ("records", "diagnostics"):
        for path in (run_dir / folder).glob("*.csv"):
            if path.name not in keep:
                path.unlink()


def _write_manifest(run_dir: Path, manifest: dict[str, object], state: RunState) -> None:
    body = dict(manifest, cells=state.cells, failures=[{"cell": c, "error": e} for c, e in state.failures])
    atomic_write_text(run_dir / "manifest.json", json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")
