"""What a Dask worker runs: one function per kind of cell, each from small values and paths.

A task receives the spec slice it needs, a ``DataRef``, the outcomes of the tasks it
depends on (which carry their ``ModelRef`` and, for an evaluation, its ``EvalCell``) and
a ``TaskEnv`` (the run's paths, and the runtime and code digests the driver planned
with). It builds its cell there with ``bench.pipeline.cells.build``, because a cell's key
holds the weights digest of its models, known only once they are trained, then skips
it if its outputs exist, or calls ``bench.pipeline.cells.execute.execute``, which refuses a
worker whose libraries or code differ from the driver's. Nothing heavier than a
``ModelRef`` crosses the network: workers load data and models from the data roots
and the model store.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from bench.errors import ExecutorError
from bench.fsutil import canonical_hash
from bench.pipeline.cells.build import attack_cell, defended_ref, eval_cell, train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.keys import Runtime, training_code_key
from bench.pipeline.cells.values import Cell, DataRef, EvalCell, ModelRef, TrainCell
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.executors import cpu_count, kept
from bench.results.run_folder import RunFolder
from bench.spec.schema import AttackSpec, ModelSpec

log = logging.getLogger(__name__)

# Test hook: a file naming cells at whose start the worker process exits, as if killed. A line
# "always: <cell>" fires every time; "once: <cell>" fires on the first attempt only; "pause-once: <cell>"
# stalls the first attempt (for a test to cancel its Slurm job mid-cell). The first attempt writes
# "<file>.<hash of the cell name>.fired" naming its Slurm job.
FAULT_ENV = "BENCH_FAULT_EXIT"
_MAX_WORKSPACES = 8


@dataclass(frozen=True)
class TaskEnv:
    """What every task of one run shares: the run's paths, what the driver planned with, torch threads per cell, --force.

    ``code`` maps ``training_code_key(model)``, ``evaluate`` and ``attack:<key>`` to the driver's code digests.
    """

    paths: WorkspacePaths
    runtime: Runtime
    code: tuple[tuple[str, str], ...]
    torch_threads: int | None = None
    force: bool = False

    def digest(self, what: str) -> str:
        """The driver's code digest for ``what``; a cell built with it fails in ``execute`` on a worker whose code differs."""
        return dict(self.code)[what]


@dataclass(frozen=True)
class Outcome:
    """What a task sends back: its manifest entry, the model it made ready, and the outputs it keeps."""

    name: str
    entry: dict[str, Any]
    ref: ModelRef | None = None
    keep: frozenset[str] = field(default_factory=frozenset)
    evaluation: EvalCell | None = None  # an evaluation's cell: attacks judge against its clean shard


def train_task(model: ModelSpec, data: DataRef, seed: int, teacher: Outcome | None, env: TaskEnv) -> Outcome:
    """Obtain one model (store, checkpoint or training); the teacher's outcome carries its weights."""
    cell = train_cell(model, data, seed, env.runtime, teacher.ref if teacher else None, env.digest(training_code_key(model)))
    return _run(cell.name, env, lambda ws: _train(cell, ws))


def _train(cell: TrainCell, ws: Workspace) -> tuple[dict[str, Any], ModelRef | None, set[str]]:
    done = execute(cell, ws)
    return done, done.pop("ref"), set()


def evaluate_task(trained: Outcome, model: ModelSpec, data: DataRef, env: TaskEnv) -> Outcome:
    """A trained model's clean records and diagnostics, unless they exist; the model (behind its defence) is ready afterwards."""
    # One training may serve two model ids with the same recipe (a defended model and its bare network): the records
    # carry this one's id, and this one's defence.
    ref = defended_ref(_ref(trained), model, env.digest("defences") if model.defence else None)
    diagnose = model.evaluate
    cell = eval_cell(ref, data, diagnose, env.runtime, env.digest("evaluate"))
    outcome = _run(cell.name, env, lambda ws: (_unless_done(cell, ws, env.force), ref, kept(cell.outputs)))
    return replace(outcome, evaluation=cell)


def attack_task(attack: AttackSpec, target: Outcome, source: Outcome | None, data: DataRef, seed: int, env: TaskEnv) -> Outcome:
    """One attack on one ready model (crafted on ``source`` for a transfer attack), unless its shard exists."""
    if target.evaluation is None:
        raise RuntimeError(f"{target.name} is not an evaluation")  # a bug in the driver's graph, not bad input
    code = env.digest(f"attack:{attack.use}")
    cell = attack_cell(attack, _ref(target), data, seed, env.runtime, target.evaluation, _ref(source) if source else None, code)
    return _run(cell.name, env, lambda ws: (_unless_done(cell, ws, env.force) | {"key": cell.key}, None, kept(cell.outputs)))


def _ref(outcome: Outcome) -> ModelRef:
    if outcome.ref is None:
        raise RuntimeError(f"{outcome.name} made no model ready")  # a bug in the driver's graph, not bad input
    return outcome.ref


def _unless_done(cell: Cell, ws: Workspace, force: bool) -> dict[str, Any]:
    if not (ws.paths.run_dir / "records").is_dir():
        raise ExecutorError(
            f"{ws.paths.run_dir}: the run folder is not visible on worker host {socket.gethostname()}; "
            "Dask workers need the driver's paths (a shared file system)"
        )
    folder = RunFolder(ws.paths.run_dir)
    if not force and folder.is_done(cell.outputs):
        return {"origin": "done", "computed": folder.provenance(cell.shard)}
    return execute(cell, ws)


def _run(name: str, env: TaskEnv, body: Callable[[Workspace], tuple[dict[str, Any], ModelRef | None, set[str]]]) -> Outcome:
    _maybe_exit(name)
    threads = env.torch_threads or _share_of_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    started, clock = time.time(), time.perf_counter()
    entry, ref, keep = body(_workspace(env.paths))
    seconds = time.perf_counter() - clock
    entry.setdefault("seconds", round(seconds, 2))
    entry |= {"worker": _worker_address(), "started": round(started, 3), "finished": round(time.time(), 3)}
    if os.environ.get("SLURM_JOB_ID"):  # a worker run as a Slurm job: which job computed the cell
        entry["slurm_job"] = os.environ["SLURM_JOB_ID"]
    return Outcome(name, entry, ref, frozenset(keep))


def _share_of_cores() -> int:
    # Each of the worker's task threads runs one cell; torch gets an equal share of the cores.
    try:
        from distributed import get_worker

        nthreads = get_worker().state.nthreads
    except (ImportError, ValueError):
        nthreads = 1
    return max(1, cpu_count() // nthreads)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


_workspaces: dict[tuple[WorkspacePaths, int], Workspace] = {}
_workspaces_lock = threading.Lock()


def _workspace(paths: WorkspacePaths) -> Workspace:
    """This thread's workspace for ``paths``: data and models stay loaded for the next cells, of this run or another.

    Its caches depend on the store, data roots and device, not on the run folder, which
    is set per task. One per thread, because attacks toggle a module's train/eval mode.
    """
    key = (replace(paths, run_dir=paths.store_root), threading.get_ident())
    with _workspaces_lock:
        if key not in _workspaces:
            while len(_workspaces) >= _MAX_WORKSPACES:  # a long-lived worker serves many stores
                _workspaces.pop(next(iter(_workspaces)))
            _workspaces[key] = Workspace(paths)
        ws = _workspaces[key]
    ws.paths = paths
    return ws


def _maybe_exit(name: str) -> None:
    plan = os.environ.get(FAULT_ENV)
    if not plan or not Path(plan).is_file():
        return
    for line in Path(plan).read_text().splitlines():
        when, _, cell = (part.strip() for part in line.partition(":"))
        if cell != name:
            continue
        if when in ("once", "pause-once"):
            try:  # the first attempt claims the fault; the retry runs normally
                fired = os.open(f"{plan}.{canonical_hash(name)[:12]}.fired", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            # It names the Slurm job (or the process) that took the fault, for a test to cancel.
            os.write(fired, os.environ.get("SLURM_JOB_ID", str(os.getpid())).encode())
            os.close(fired)
        if when == "pause-once":
            log.warning("%s: pausing mid-cell (%s)", name, FAULT_ENV)
            time.sleep(600)
            continue
        log.warning("%s: exiting the worker process (%s)", name, FAULT_ENV)
        os._exit(70)
