"""Plans a suite as cells, executes those not done yet, and collects what happened.

The run folder is ``<out>/<suite name>/``. Each cell writes its outputs under
names that hash everything that determines them, so a re-run finds finished
cells by name (``RunFolder.is_done``) and recomputes only what is missing or
changed. A failed cell is collected, recorded in the manifest and returned;
the ``bench run`` command then draws the report and reports the failures.

Run identity: ``records/`` is a content-addressed cache of every cell ever
computed in the folder. A variant of the suite (``--set``) adds its own shards
beside the others and the manifest's ``outputs`` names the ones the last run
planned, which alone feed the tables. Nothing is deleted unless ``--prune``
asks for it, and then the command says what it removed; so alternating two
variants recomputes nothing the second time and loses no record.

The executor (``bench.pipeline.executors``: ``local``, one after another in this
process, or ``dask``) runs the cells; every executor builds them with
``bench.pipeline.cells.build``, records the same entries and writes the same records.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.attacks import ATTACKS
from bench.catalogue.datasets import DATASETS, data_roots
from bench.errors import OutputError
from bench.fsutil import atomic_write_text, remove_temp_files
from bench.pipeline.cells import provenance
from bench.pipeline.cells.values import DataRef
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.data.bundle import DataBundle, load_data
from bench.pipeline.executors import ExecutorOptions, Job, executor
from bench.pipeline.models import preflight
from bench.pipeline.models.store import default_store_root
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
    prune: bool = False  # after a complete run, delete the shards of cells this spec does not plan
    executor: ExecutorOptions = ExecutorOptions()


@dataclass
class RunState:
    """What a run has done so far; written to the manifest."""

    cells: dict[str, dict[str, object]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)  # the outputs this run planned: the only files its tables read
    # model id -> its cost measurement (kept apart from ``cells``: a measurement, not a deterministic result)
    costs: dict[str, dict[str, object]] = field(default_factory=dict)
    # Writes the manifest. Called after every cell, so even a killed run's manifest names the outputs it planned
    # so far, and its report never mixes in another variant's shards.
    save: Callable[[], None] = lambda: None

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
    pruned: tuple[str, ...] = ()  # files --prune removed, relative to the run folder


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
    remote = opts.executor.kind == "slurm" or opts.executor.scheduler is not None
    device = provenance.resolve_device(opts.device, remote)
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
    state = RunState(save=lambda: _write_manifest(run_dir, manifest, state))
    state.save()
    pruned: list[str] = []
    try:
        job = Job(spec, data_ref(spec, data), ws, opts.executor, opts.force, opts.quiet)
        # Said before any cell runs, so a killed run's manifest says where its cells ran; the executor then adds detail.
        manifest["executor"] = {"kind": opts.executor.kind}
        manifest["executor"] = executor(opts.executor.kind)(job, state)
        if opts.prune and not state.failures:
            # Only a complete run may prune: a failed cell's earlier shard is what the next try would start from.
            pruned = prune(run_dir, state.keep)
        manifest["status"] = "failed" if state.failures else "complete"
    except KeyboardInterrupt:
        manifest["status"] = "interrupted"
        raise
    except BaseException as exc:
        manifest["status"] = f"error: {type(exc).__name__}: {exc}"
        raise
    finally:
        manifest["finished"] = provenance.now()
        state.save()
    return RunOutcome(run_dir, tuple(state.failures), tuple(pruned))


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


def prune(run_dir: Path, keep: set[str]) -> list[str]:
    """Delete the shards (and their provenance and examples) of cells the last run did not plan; return what went.

    Only ``bench run --prune`` calls this: they are records of other variants that a
    later run would reuse, and someone paid for them.
    """
    removed = []
    for folder in ("records", "diagnostics"):
        for path in sorted((run_dir / folder).glob("*.csv")):
            if path.name in keep:
                continue
            side = (
                run_dir / "provenance" / f"{path.name}.json",
                run_dir / "examples" / f"{path.stem}.npz",
                run_dir / "details" / f"{path.stem}.npz",
            )
            for extra in side:
                extra.unlink(missing_ok=True)
            path.unlink()
            removed.append(f"{folder}/{path.name}")
    return removed


def _write_manifest(run_dir: Path, manifest: dict[str, object], state: RunState) -> None:
    # Only the planned outputs feed the tables: other variants' shards and a failed cell's older shard stay on disk unread.
    failures = [{"cell": c, "error": e} for c, e in state.failures]
    body = dict(manifest, outputs=sorted(state.keep), cells=state.cells, costs=state.costs, failures=failures)
    atomic_write_text(run_dir / "manifest.json", json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")
