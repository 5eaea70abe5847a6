"""Executors: where a run's cells execute. The cells, their order and their records do not change.

Every executor is one function ``(job, ledger) -> dict``: it runs the cells of
``job`` that are not done yet, records each finished or failed cell in the
``ledger`` (the run's manifest state), and returns what the manifest says about
where the cells ran. ``executor(kind)`` imports one lazily.

* ``local`` (the default): one after another in this process.
* ``dask``: one Dask task per cell, on a ``LocalCluster`` bound to 127.0.0.1
  (``workers``, ``threads_per_worker``) or on a running scheduler (``scheduler``,
  e.g. one started by dask-jobqueue on Slurm). Workers run ``dask_tasks``.

``ExecutorOptions`` is the resolved choice: ``bench run`` flags, then ``$BENCH_EXECUTOR``,
then the suite's ``executor:`` block, then ``local``.

Modules:

* ``local``: The local executor: every cell of a run, one after another, in this process.
* ``dask``: Run a suite's cells as Dask tasks: the same cells and records as the local executor, on many workers.
* ``dask_tasks``: What a Dask worker runs: one function per kind of cell, each from small values and paths.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bench.errors import ExecutorError
from bench.registry import Registry
from bench.spec.schema import ExecutorSpec, SuiteSpec

if TYPE_CHECKING:
    from bench.pipeline.cells.values import DataRef
    from bench.pipeline.cells.workspace import Workspace

# Each kind's executor, imported on first use: Dask only when a run asks for it.
_TARGETS = {"local": "bench.pipeline.executors.local:run_local", "dask": "bench.pipeline.executors.dask:run_on_dask"}
KINDS = tuple(_TARGETS)  # the default first, as help and errors list them
EXECUTORS: Registry[Executor] = Registry("executor")
for _kind, _target in _TARGETS.items():
    EXECUTORS.register(_kind, _target)


@dataclass(frozen=True)
class ExecutorOptions:
    """How to execute a run's cells; validated by ``check``."""

    kind: str = "local"
    workers: int | None = None
    threads_per_worker: int | None = None
    scheduler: str | None = None
    torch_threads: int | None = None

    def check(self) -> ExecutorOptions:
        """Return self, or raise a one-line ``ExecutorError`` for a combination that cannot work."""
        if self.kind not in KINDS:
            raise ExecutorError(f"executor '{self.kind}': choose one of {', '.join(KINDS)}")
        dask_only = {
            "--workers": self.workers,
            "--threads-per-worker": self.threads_per_worker,
            "--scheduler": self.scheduler,
            "--torch-threads": self.torch_threads,
        }
        if self.kind == "local":
            given = [flag for flag, value in dask_only.items() if value is not None]
            if given:
                raise ExecutorError(f"{', '.join(given)}: only with --executor dask (the local executor runs cells in this process)")
            return self
        for flag, value in dask_only.items():
            if isinstance(value, int) and value < 1:
                raise ExecutorError(f"{flag} {value}: must be at least 1")
        if self.scheduler is not None and (self.workers is not None or self.threads_per_worker is not None):
            raise ExecutorError("--scheduler: the running cluster has its own workers; drop --workers and --threads-per-worker")
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ExecutorError(f"--scheduler {self.scheduler}: expected an address like tcp://host:8786")
        return self


def resolve(
    suite: ExecutorSpec | None,
    kind: str | None = None,
    workers: int | None = None,
    threads_per_worker: int | None = None,
    scheduler: str | None = None,
    torch_threads: int | None = None,
) -> ExecutorOptions:
    """The executor a run uses: flags (or their environment variables) first, then the suite's ``executor:`` block."""
    base = suite or ExecutorSpec()
    if kind is not None and kind != base.kind:
        base = ExecutorSpec(kind=kind)  # another executor than the suite's: none of its settings apply
    if scheduler is not None:
        base = base.model_copy(update={"workers": None, "threads_per_worker": None})
    if workers is not None or threads_per_worker is not None:
        base = base.model_copy(update={"scheduler": None})
    return ExecutorOptions(
        kind=base.kind,
        workers=workers if workers is not None else base.workers,
        threads_per_worker=threads_per_worker if threads_per_worker is not None else base.threads_per_worker,
        scheduler=scheduler if scheduler is not None else base.scheduler,
        torch_threads=torch_threads if torch_threads is not None else base.torch_threads,
    ).check()


class Ledger(Protocol):
    """What an executor reports into (``bench.pipeline.runner.RunState``): finished cells, costs, outputs to keep, failures."""

    cells: dict[str, dict[str, object]]
    costs: dict[str, dict[str, object]]
    keep: set[str]
    save: Callable[[], None]  # rewrites the manifest, after every cell

    def fail(self, cell: str, exc: BaseException | str) -> None:
        """Record a failed cell."""


@dataclass(frozen=True)
class Job:
    """What every executor is handed: the suite, its data as cells name it, this process's workspace, and how to run."""

    spec: SuiteSpec
    data: DataRef
    workspace: Workspace  # this process's paths, runtime and loaded data; other processes rebuild theirs from its paths
    options: ExecutorOptions
    force: bool = False
    quiet: bool = True


class Executor(Protocol):
    """Runs the cells of a job that are not done yet, records them in the ledger, and describes itself for the manifest."""

    def __call__(self, job: Job, ledger: Ledger) -> dict[str, Any]: ...


def executor(kind: str) -> Executor:
    """The executor registered as ``kind``."""
    return EXECUTORS.get(kind)


def cpu_count() -> int:
    """CPU cores this process may use (its affinity mask: a Slurm allocation, a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def kept(outputs: Iterable[str]) -> set[str]:
    """The file names a cell's outputs keep from the stale-shard sweep at the end of a complete run."""
    return {os.path.basename(p) for p in outputs}
