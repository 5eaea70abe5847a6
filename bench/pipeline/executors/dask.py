"""Run a suite's cells as Dask tasks: the same cells and records as the local executor, on many workers.

The driver submits one task per cell, in the plan's order, with futures as arguments
where a cell needs another's result: a student's training waits for its teacher, a
model's evaluation for its training, an attack for its target (and source) to be
evaluated. Workers build each cell from the ``ModelRef`` they receive
(``bench.pipeline.executors.dask_tasks``). Priorities follow the plan's critical path.

The driver submits each training recipe once, even when two model ids share it. A
training task's key hashes exactly its arguments, which name the model store but no
run folder, so two runs on one scheduler that share a store submit one task: one
training, without any file lock. The store's first-writer-wins publishing covers
runs on different schedulers. A student's training waits for its teacher's training
only (locally it also waits for the teacher's evaluation, which cannot change it).

A failed cell is collected as in a local run. A worker that dies mid-cell loses only
that cell: the scheduler retries it elsewhere (``distributed.scheduler.allowed-failures``
times) and then reports it failed; a re-run computes only the missing cells.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from bench.errors import BenchError, ExecutorError
from bench.pipeline.cells.keys import (
    BASE_PACKAGES,
    attack_code,
    defences_code,
    evaluate_code,
    model_key,
    task_key,
    train_code,
    training_code_key,
)
from bench.pipeline.cells.values import DataRef
from bench.pipeline.executors import GPU, ExecutorOptions, Job, Ledger, cpu_count, on_gpu
from bench.pipeline.executors.dask_tasks import Outcome, TaskEnv, attack_task, evaluate_task, train_task
from bench.results.families import family_of
from bench.spec.plan import attack_plan, cell_graph, model_seed, tails, topo_models
from bench.spec.schema import SuiteSpec

if TYPE_CHECKING:
    from distributed import Client, Future

log = logging.getLogger(__name__)

Explain = Callable[[str], "str | None"]

CONNECT_TIMEOUT = "20s"
# For the LocalCluster bench starts. A worker holds only the cell it runs (worker-saturation 1.0; Dask's default
# queues more on it): cells last seconds to minutes, so early queuing gains nothing, and a worker that dies
# would take its queued cells down with it. MALLOC_TRIM_THRESHOLD_ unset: the allocator's defaults, as a local run.
LOCAL_CONFIG: dict[str, Any] = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}
# A Slurm worker also holds only the cell it runs: a job that is cancelled, preempted or hits its walltime takes no
# queued cells with it.
SLURM_CONFIG: dict[str, Any] = {"distributed.scheduler.worker-saturation": 1.0}
# Everything a LocalCluster opens listens on 127.0.0.1 only, on free ports; the scheduler's HTTP
# server (health and metrics; no dashboard) would otherwise take port 8787.
LOOPBACK: dict[str, Any] = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0", "scheduler_kwargs": {"dashboard": False}}


@dataclass(frozen=True)
class Node:
    """One cell of the graph: its future, the cells whose failure explains its own, and what to say then."""

    name: str
    future: Future
    deps: tuple[str, ...] = ()
    unavailable: str | None = None  # None: a failed dependency is reported under the dependency's name only
    fatal: bool = False  # a BenchError (bad input) here stops the run, as it does for a model's cells locally


def run_on_dask(job: Job, ledger: Ledger) -> dict[str, Any]:
    """Execute every cell of ``job`` on Dask, recording into ``ledger``; return what the manifest says about the cluster.

    The job's runtime is the driver's: every worker must match it, and the driver's code, or refuse its cells.
    """
    paths = job.workspace.paths
    gpu = on_gpu(paths.device)
    if job.options.kind == "slurm":
        from bench.pipeline.executors.slurm import check_cluster

        check_cluster(job.options, job.spec)  # before any job is submitted
        if gpu and not job.options.gpus_per_job:
            raise ExecutorError(f"--device {paths.device}: the Slurm jobs have no GPU; add --gpus-per-job N")
    with connect(job.options, paths.run_dir / "slurm", gpu) as (client, info):
        env = TaskEnv(replace(paths, quiet=True), job.workspace.runtime, planned_code(job.spec), info.get("torch_threads"), job.force)
        nodes = submit(client, job.spec, job.data, env)
        explain = None
        if job.options.kind == "slurm":
            from bench.pipeline.executors.slurm import why_worker_died

            explain = partial(why_worker_died, paths.run_dir / "slurm")
        try:
            collect(client, nodes, ledger, job.quiet, explain)
        except BaseException:
            client.cancel([n.future for n in nodes])
            raise
    return info


@contextmanager
def connect(opts: ExecutorOptions, log_dir: Path | None = None, gpu: bool = False) -> Iterator[tuple[Client, dict[str, Any]]]:
    """A client to the scheduler at ``opts.scheduler``, to a ``SLURMCluster`` whose jobs write their output to ``log_dir``
    (``--executor slurm``), or to a ``LocalCluster`` on 127.0.0.1; a cluster bench starts lives as long as the run.

    ``gpu``: the run has GPU cells. Each LocalCluster worker then offers one unit of the ``GPU`` resource (one GPU
    cell at a time), and a running scheduler whose workers offer none is warned about."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(f"--executor {opts.kind} needs Dask: pip install 'bench[{opts.kind}]'") from None
    if not log.isEnabledFor(logging.DEBUG):  # Dask logs every worker's start and stop at INFO; the progress bar suffices
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if opts.kind == "slurm":
        from bench.pipeline.executors.slurm import slurm_cluster

        if log_dir is None:
            raise ValueError("a Slurm cluster needs a folder for its jobs' output")
        with dask.config.set(SLURM_CONFIG), slurm_cluster(opts, log_dir) as (cluster, info):
            with Client(cluster, set_as_default=False) as client:
                yield client, info
        return
    if opts.scheduler is not None:
        try:
            client = Client(opts.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(f"--scheduler {opts.scheduler}: cannot connect ({type(exc).__name__}: {exc})") from None
        with client:
            workers = client.scheduler_info().get("workers", {})
            if not workers:
                log.warning("the scheduler at %s has no workers yet; cells wait until some join", opts.scheduler)
            elif gpu and not any(w.get("resources", {}).get(GPU) for w in workers.values()):
                log.warning("no worker of %s offers the Dask resource %s; GPU cells wait until one joins", opts.scheduler, GPU)
            info = {"kind": "dask", "scheduler": opts.scheduler, "workers": len(workers), "torch_threads": opts.torch_threads}
            yield client, info
        return
    threads = opts.threads_per_worker or 1
    workers = opts.workers or max(1, cpu_count() // threads)
    torch_threads = opts.torch_threads or max(1, cpu_count() // (workers * threads))
    with dask.config.set(LOCAL_CONFIG):
        resources = {"resources": {GPU: 1}} if gpu else {}
        cluster = LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True, **LOOPBACK, **resources)
    with cluster, Client(cluster, set_as_default=False) as client:
        info = {
            "kind": "dask",
            "scheduler": cluster.scheduler_address,
            "workers": workers,
            "threads_per_worker": threads,
            "torch_threads": torch_threads,
        }
        yield client, info


def planned_code(spec: SuiteSpec) -> tuple[tuple[str, str], ...]:
    """The driver's code digests for the cells of ``spec``, which workers must match."""
    code = {training_code_key(m): train_code(m.arch, m.train.adversarial is not None) for m in spec.models}
    code |= {f"attack:{a.use}": attack_code(a.use) for a in spec.attacks}
    code |= {"defences": defences_code()} if any(m.defence for m in spec.models) else {}
    return tuple(sorted((code | {"evaluate": evaluate_code()}).items()))


def submit(client: Client, spec: SuiteSpec, data: DataRef, env: TaskEnv) -> list[Node]:
    """Submit every cell of the plan as a task, dependencies first; return the graph's nodes in plan order."""
    priority = {name: round(t * 1000) for name, t in tails(cell_graph(spec)).items()}
    run = env.paths.run_dir.as_posix()
    # Training writes to the store only: its task names no run folder, so the same training in two runs is one task.
    train_env = replace(env, paths=replace(env.paths, run_dir=env.paths.store_root), force=False)
    # On a GPU run, training and gradient attacks hold a GPU; evaluations and gradient-free attacks run on the CPU of
    # any worker, planned (and keyed) for the CPU, so they never wait for a GPU worker.
    gpu = {"resources": {GPU: 1}} if on_gpu(env.paths.device) else {}
    cpu_env = on_cpu(env) if gpu else env
    nodes: list[Node] = []
    recipes: dict[str, str] = {}
    trained: dict[str, Future] = {}  # by model id
    by_recipe: dict[str, Future] = {}
    ready: dict[str, Future] = {}
    for mid in topo_models(spec):
        m, seed = spec.model(mid), model_seed(spec, mid)
        # The teacher's recipe stands in for its weights digest, which exists only once it is trained.
        runtime, code = env.runtime.subset(BASE_PACKAGES), env.digest(training_code_key(m))
        recipes[mid] = model_key(m, data.train_fingerprint, seed, recipes.get(m.teacher or ""), m.checkpoint, runtime, code)
        teacher = trained[m.teacher] if m.teacher else None
        name = f"train {mid}"
        if recipes[mid] not in by_recipe:  # two ids with one recipe: train once
            # A task key must name exactly its arguments: then two runs submitting the same key mean the same work.
            args = [m.key_dump(), asdict(data), seed, teacher.key if teacher else None, asdict(train_env)]
            key = task_key("train", args)
            by_recipe[recipes[mid]] = client.submit(train_task, m, data, seed, teacher, train_env, key=key, priority=priority[name], **gpu)
        trained[mid] = by_recipe[recipes[mid]]
        deps = (f"train {m.teacher}",) if m.teacher else ()
        nodes.append(Node(name, trained[mid], deps, f"teacher {m.teacher} is not available", fatal=True))
        name = f"evaluate {mid}"
        key = task_key("evaluate", [run, m.key_dump(), trained[mid].key, env.force])
        ready[mid] = client.submit(evaluate_task, trained[mid], m, data, cpu_env, key=key, priority=priority[name])
        nodes.append(Node(name, ready[mid], (f"train {mid}",), fatal=True))
    for planned in attack_plan(spec):
        a = spec.attacks[planned.attack]
        name = f"{a.id} on {planned.model}"
        models = [planned.model] + ([planned.source] if planned.source else [])
        key = task_key("attack", [run, name, a.model_dump(mode="json"), [ready[x].key for x in models], env.force])
        source = ready[planned.source] if planned.source else None
        seed = model_seed(spec, planned.model)
        attack_env, needs = (cpu_env, {}) if family_of(a.use).gradient_free else (env, gpu)
        target = ready[planned.model]
        future = client.submit(attack_task, a, target, source, data, seed, attack_env, key=key, priority=priority[name], **needs)
        nodes.append(Node(name, future, tuple(f"evaluate {x}" for x in models), "its model is not available"))
    return nodes


def on_cpu(env: TaskEnv) -> TaskEnv:
    """The same task environment, planned for the CPU: what a GPU run's CPU cells are computed (and keyed) with."""
    return replace(env, paths=replace(env.paths, device="cpu"), runtime=replace(env.runtime, device_type="cpu"))


def collect(client: Client, nodes: list[Node], ledger: Ledger, quiet: bool, explain: Explain | None = None) -> None:
    """Record each cell as its task finishes, under one progress bar; a ``BenchError`` in a model's cells stops the run.

    ``explain`` says, from a dead worker's address, why it died (a Slurm job's end), for the failure message."""
    from distributed import as_completed

    by_key: dict[str, list[Node]] = {}
    for node in nodes:
        by_key.setdefault(node.future.key, []).append(node)
    status = {node.name: node.future for node in nodes}
    unique = [group[0].future for group in by_key.values()]
    with tqdm(total=len(nodes), desc="cells", unit="cell", disable=quiet) as bar:
        for future, result in as_completed(unique, with_results=True, raise_errors=False, loop=client.loop):
            for i, node in enumerate(by_key[future.key]):
                if future.status == "finished":
                    ledger.cells[node.name] = _entry(result, str(future.key), i)
                    ledger.keep |= result.keep
                else:
                    _failed(node, future.exception(), status, ledger, explain)
                bar.update(1)
            ledger.save()


def _entry(outcome: Outcome, key: str, index: int) -> dict[str, Any]:
    # The task key shows when two runs on one scheduler shared a training: both manifests name the same task.
    entry = dict(outcome.entry, task=key, reported=round(time.time(), 3))
    if index > 0:  # a second model id with the same recipe: trained (or loaded) once, under the first id
        return entry | {"origin": "cache", "same_as": outcome.name}
    return entry


def _failed(node: Node, exc: BaseException, status: dict[str, Future], ledger: Ledger, explain: Explain | None = None) -> None:
    if any(status[d].status in ("error", "cancelled") for d in node.deps if d in status):
        if node.unavailable is not None:
            ledger.fail(node.name, node.unavailable)
        return
    if isinstance(exc, BenchError) and node.fatal:
        raise exc
    if type(exc).__name__ == "KilledWorker":
        tries = getattr(exc, "allowed_failures", 0) + 1
        why = f"KilledWorker: its worker died while it ran or waited there, {tries} time(s)"
        last = getattr(getattr(exc, "last_worker", None), "address", None)
        reason = explain(last) if explain and last else None
        ledger.fail(node.name, f"{why}; {reason}" if reason else why)
        return
    ledger.fail(node.name, exc)
