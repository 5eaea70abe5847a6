"""Executors: where a run's cells execute. The cells, their order and their records do not change.

* ``local`` (the default): one after another in this process (``bench.pipeline.runner``).
* ``dask``: one Dask task per cell (``bench.pipeline.executors.dask``), on a
  ``LocalCluster`` bound to 127.0.0.1 (``workers``, ``threads_per_worker``) or on a running
  scheduler (``scheduler``, e.g. one started by dask-jobqueue on Slurm). Workers run
  ``bench.pipeline.executors.dask_tasks``.

``ExecutorOptions`` is the resolved choice: ``bench run`` flags, then ``$BENCH_EXECUTOR``,
then the suite's ``executor:`` block, then ``local``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bench.errors import ExecutorError
from bench.spec.schema import ExecutorSpec

KINDS = ("local", "dask")


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
    """What an executor reports into (``bench.pipeline.runner.RunState``): finished cells, outputs to keep, failures."""

    cells: dict[str, dict[str, object]]
    keep: set[str]
    save: Callable[[], None]  # rewrites the manifest, after every cell

    def fail(self, cell: str, exc: BaseException | str) -> None:
        """Record a failed cell."""


def cpu_count() -> int:
    """CPU cores this process may use (its affinity mask: a Slurm allocation, a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def kept(outputs: Iterable[str]) -> set[str]:
    """The file names a cell's outputs keep from the stale-shard sweep at the end of a complete run."""
    return {os.path.basename(p) for p in outputs}
