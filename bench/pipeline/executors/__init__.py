"""Executors: where a run's cells execute. The cells, their order and their records do not change.

Every executor is one function ``(job, ledger) -> dict``: it runs the cells of
``job`` that are not done yet, records each finished or failed cell in the
``ledger`` (the run's manifest state), and returns what the manifest says about
where the cells ran. ``executor(kind)`` imports one lazily.

* ``local`` (the default): one after another in this process.
* ``dask``: one Dask task per cell, on a ``LocalCluster`` bound to 127.0.0.1
  (``workers``, ``threads_per_worker``) or on a running scheduler (``scheduler``).
  Workers run ``dask_tasks``.
* ``slurm``: the Dask executor on a dask-jobqueue ``SLURMCluster``: ``jobs`` Slurm jobs,
  one Dask worker each (``slurm`` writes their job script and checks the options).

``ExecutorOptions`` is the resolved choice: ``bench run`` flags, then ``$BENCH_EXECUTOR``,
then the suite's ``executor:`` block, then ``local``.

Modules:

* ``local``: The local executor: every cell of a run, one after another, in this process.
* ``dask``: Run a suite's cells as Dask tasks: the same cells and records as the local executor, on many workers.
* ``dask_tasks``: What a Dask worker runs: one function per kind of cell, each from small values and paths.
* ``slurm``: The Slurm executor's jobs: the script each Dask worker job is submitted with, checks against the cluster, the SLURMCluster.
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

# Each kind's executor, imported on first use: Dask only when a run asks for it. Slurm is the Dask executor whose
# cluster is a dask-jobqueue SLURMCluster: the same task graph, the same records.
_TARGETS = {
    "local": "bench.pipeline.executors.local:run_local",
    "dask": "bench.pipeline.executors.dask:run_on_dask",
    "slurm": "bench.pipeline.executors.dask:run_on_dask",
}
KINDS = tuple(_TARGETS)  # the default first, as help and errors list them
EXECUTORS: Registry[Executor] = Registry("executor")
for _kind, _target in _TARGETS.items():
    EXECUTORS.register(_kind, _target)

# The Dask resource a GPU cell asks for, one unit per cell; a worker offers as many units as it has GPUs.
GPU = "GPU"

# The flag that sets each option, for errors; and which executors take it.
FLAGS = {
    "workers": "--workers",
    "threads_per_worker": "--threads-per-worker",
    "scheduler": "--scheduler",
    "torch_threads": "--torch-threads",
    "jobs": "--jobs",
    "cores_per_job": "--cores-per-job",
    "memory_per_job": "--memory-per-job",
    "walltime": "--walltime",
    "partition": "--partition",
    "account": "--account",
    "sbatch": "--sbatch",
    "gpus_per_job": "--gpus-per-job",
}
_SLURM_ONLY = {"jobs", "cores_per_job", "memory_per_job", "walltime", "partition", "account", "sbatch", "gpus_per_job"}
_TAKES = {
    "local": set(),
    "dask": {"workers", "threads_per_worker", "scheduler", "torch_threads"},
    "slurm": {"threads_per_worker", "torch_threads"} | _SLURM_ONLY,
}


@dataclass(frozen=True)
class ExecutorOptions:
    """How to execute a run's cells; validated by ``check``."""

    kind: str = "local"
    workers: int | None = None
    threads_per_worker: int | None = None
    scheduler: str | None = None
    torch_threads: int | None = None
    jobs: int | None = None
    cores_per_job: int | None = None
    memory_per_job: str | None = None
    walltime: str | None = None
    partition: str | None = None
    account: str | None = None
    sbatch: tuple[str, ...] = ()
    gpus_per_job: int | None = None

    def given(self) -> dict[str, Any]:
        """The options that are set, by field name."""
        return {name: getattr(self, name) for name in FLAGS if getattr(self, name) not in (None, ())}

    def check(self) -> ExecutorOptions:
        """Return self, or raise a one-line ``ExecutorError`` for a combination that cannot work."""
        if self.kind not in KINDS:
            raise ExecutorError(f"executor '{self.kind}': choose one of {', '.join(KINDS)}")
        given = self.given()
        foreign = [FLAGS[name] for name in given if name not in _TAKES[self.kind]]
        if foreign:
            owners = {k for name in given for k, takes in _TAKES.items() if name in takes and k != self.kind}
            if self.kind == "local":
                why = "the local executor runs cells in this process"
            else:
                why = f"not an option of --executor {self.kind}"
            raise ExecutorError(f"{', '.join(foreign)}: only with --executor {' or '.join(sorted(owners))} ({why})")
        for name, value in given.items():
            if isinstance(value, int) and value < 1:
                raise ExecutorError(f"{FLAGS[name]} {value}: must be at least 1")
        if self.scheduler is not None and (self.workers is not None or self.threads_per_worker is not None):
            raise ExecutorError("--scheduler: the running cluster has its own workers; drop --workers and --threads-per-worker")
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ExecutorError(f"--scheduler {self.scheduler}: expected an address like tcp://host:8786")
        if self.kind == "slurm":
            from bench.pipeline.executors.slurm import check_static

            check_static(self)
        return self


def resolve(suite: ExecutorSpec | None, kind: str | None = None, **flags: Any) -> ExecutorOptions:
    """The executor a run uses: flags (or their environment variables) first, then the suite's ``executor:`` block.

    ``flags`` are ``ExecutorOptions`` fields; None (or an empty ``sbatch``) leaves the suite's value.
    """
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise TypeError(f"unknown executor options: {sorted(unknown)}")
    base = suite or ExecutorSpec()
    if kind is not None and kind != base.kind:
        base = ExecutorSpec(kind=kind)  # another executor than the suite's: none of its settings apply
    if flags.get("scheduler") is not None:
        base = base.model_copy(update={"workers": None, "threads_per_worker": None})
    if flags.get("workers") is not None or flags.get("threads_per_worker") is not None:
        base = base.model_copy(update={"scheduler": None})
    values = {name: getattr(base, name) for name in FLAGS}
    values |= {name: value for name, value in flags.items() if value not in (None, ())}
    values["sbatch"] = tuple(values["sbatch"] or ())
    return ExecutorOptions(kind=base.kind, **values).check()


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


def on_gpu(device: str) -> bool:
    """Whether cells planned for ``device`` (``cpu``, ``cuda``, ``cuda:1``) need a GPU."""
    return device.split(":", 1)[0] == "cuda"


def cpu_count() -> int:
    """CPU cores this process may use (its affinity mask: a Slurm allocation, a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def kept(outputs: Iterable[str]) -> set[str]:
    """The file names a cell's outputs keep from the stale-shard sweep at the end of a complete run."""
    return {os.path.basename(p) for p in outputs}
