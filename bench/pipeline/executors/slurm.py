"""The Slurm executor's jobs: the script each Dask worker job is submitted with, checks against the cluster, the SLURMCluster.

``--executor slurm`` is the Dask executor (``bench.pipeline.executors.dask``) with a
dask-jobqueue ``SLURMCluster`` as its cluster. The driver (``bench run``) starts the
scheduler on the address this host's name resolves to, and submits ``jobs`` batch jobs.
Each runs one Dask worker that listens on the address of the node Slurm put it on.
On the dev cluster (``scripts/slurm-dev-cluster.sh``) both are 127.0.0.1.

A worker job runs the driver's Python with the driver's venv activated, and with the
driver's ``PYTHONPATH`` and ``BENCH_*`` variables, so it imports the same bench. Its
output goes to ``<run folder>/slurm/bench-worker-<job id>.{out,err}``. A GPU request
(``gpus_per_job``) becomes ``#SBATCH --gpus=N`` and the worker's Dask resource ``GPU=N``.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import ExecutorError
from bench.pipeline.executors import GPU

if TYPE_CHECKING:
    from bench.pipeline.executors import ExecutorOptions
    from bench.spec.schema import SuiteSpec

log = logging.getLogger(__name__)

DEFAULT_CORES = 1
DEFAULT_MEMORY = "2GB"
JOB_NAME = "bench-worker"
COMMANDS = ("sbatch", "squeue", "scancel", "sinfo")
# A worker whose driver is gone (killed, its node lost) exits after this long instead of holding its job.
DEATH_TIMEOUT = 60
# What the script prints for the scheduler's address in `bench validate`, before any scheduler exists.
PLACEHOLDER = "tcp://<this host>:<port>"
# What a worker job's .err says: the worker's address (Dask's log), and how Slurm ended the job (slurmstepd's line).
_STARTED = re.compile(r"Start worker at:\s+(\S+)")
_ENDED = re.compile(r"\*\*\* JOB (\d+) ON (\S+) CANCELLED AT (\S+)(?: DUE TO ([A-Z ]+?))? \*\*\*")
_OOM = re.compile(r"oom-kill event")
_MEMORY = re.compile(r"^\s*(\d+(\.\d+)?)\s*([kKmMgGtT]i?[bB]?|[bB])?\s*$")
_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def walltime_seconds(text: str) -> int:
    """Seconds in a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS."""
    m = _WALLTIME.match(text.strip())
    if not m:
        raise ExecutorError(f"--walltime {text}: expected a Slurm time limit such as 04:00:00, 30:00 or 1-12:00:00")
    days, a, b, c = (int(x) if x is not None else None for x in m.groups())
    if days is not None:  # D-HH[:MM[:SS]]
        hours, minutes, seconds = a, b or 0, c or 0
    elif c is not None:  # HH:MM:SS
        hours, minutes, seconds = a, b, c
    else:  # MM[:SS]
        hours, minutes, seconds = 0, a, b or 0
    return (days or 0) * 86400 + (hours or 0) * 3600 + (minutes or 0) * 60 + (seconds or 0)


def check_static(opts: ExecutorOptions) -> None:
    """Raise a one-line ``ExecutorError`` for Slurm options that are wrong on any cluster."""
    if opts.memory_per_job is not None and not _MEMORY.match(opts.memory_per_job):
        raise ExecutorError(f"--memory-per-job {opts.memory_per_job}: expected an amount such as 4GB or 500MB")
    if opts.walltime is not None and walltime_seconds(opts.walltime) < 1:
        raise ExecutorError(f"--walltime {opts.walltime}: must be longer than zero")
    for line in opts.sbatch:
        if not _directive(line).startswith("-"):
            raise ExecutorError(f"--sbatch '{line}': expected an sbatch option such as --qos=short (the '#SBATCH' prefix is optional)")
    if opts.threads_per_worker and opts.threads_per_worker > (opts.cores_per_job or DEFAULT_CORES):
        raise ExecutorError(
            f"--threads-per-worker {opts.threads_per_worker}: more cells at once than the job's "
            f"{opts.cores_per_job or DEFAULT_CORES} core(s) (--cores-per-job)"
        )


def check_cluster(opts: ExecutorOptions, spec: SuiteSpec) -> None:
    """Raise a one-line ``ExecutorError`` when this cluster cannot run ``spec`` as asked: no Slurm commands, an unknown
    partition, a walltime shorter than the longest cell's estimate."""
    missing = [cmd for cmd in COMMANDS if shutil.which(cmd) is None]
    if missing:
        raise ExecutorError(
            f"--executor slurm: {', '.join(missing)} not on the PATH; run bench where Slurm's commands are (a login node), "
            "or start the dev cluster (scripts/slurm-dev-cluster.sh up)"
        )
    if opts.partition is not None:
        listed = partitions()
        if opts.partition not in listed:
            raise ExecutorError(f"--partition {opts.partition}: sinfo lists no such partition (it lists: {', '.join(listed) or 'none'})")
    check_walltime(opts, spec)


def check_walltime(opts: ExecutorOptions, spec: SuiteSpec) -> None:
    """A job must outlive the longest cell: a job killed at its walltime loses the cell it runs, on every retry."""
    if opts.walltime is None:
        return
    from bench.spec.plan import cell_graph

    longest = max(cell_graph(spec), key=lambda c: c.cost)
    if walltime_seconds(opts.walltime) < longest.cost:
        raise ExecutorError(
            f"--walltime {opts.walltime}: shorter than the longest cell's estimate ({longest.name}, {_fmt(longest.cost)} "
            "on 2 CPU cores); a job that hits its walltime loses its cell"
        )


def partitions() -> list[str]:
    """The partitions ``sinfo`` lists."""
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%R"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExecutorError(f"--executor slurm: sinfo did not answer ({exc})") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no output"])[0]
        raise ExecutorError(f"--executor slurm: sinfo failed: {first}")
    return sorted({line.strip() for line in done.stdout.splitlines() if line.strip()})


def scheduler_host() -> str:
    """The address the scheduler listens on: what this host's name resolves to, which is how the nodes reach it."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def torch_threads(opts: ExecutorOptions) -> int:
    """Torch threads per cell: ``--torch-threads``, or the job's cores shared among the cells it runs at once."""
    return opts.torch_threads or max(1, (opts.cores_per_job or DEFAULT_CORES) // (opts.threads_per_worker or 1))


def worker_environment() -> list[str]:
    """The job script's prologue: the driver's venv, its PYTHONPATH and BENCH_* variables, and the node's address."""
    lines = []
    if sys.prefix != sys.base_prefix:  # a venv: activate it, as a shell on the node would
        lines.append(f"source {shlex.quote(str(Path(sys.prefix) / 'bin' / 'activate'))}")
    names = sorted(n for n in os.environ if n.startswith("BENCH_") or n == "PYTHONPATH")
    lines += [f"export {n}={shlex.quote(os.environ[n])}" for n in names]
    # The worker listens on the address of the node Slurm runs it on (its NodeName, resolved), never on every interface.
    node = "${SLURMD_NODENAME:-$(hostname)}"
    lines.append(f"BENCH_WORKER_HOST=$(getent ahostsv4 \"{node}\" | awk 'NR == 1 {{print $1}}')")
    lines.append(f'[ -n "$BENCH_WORKER_HOST" ] || {{ echo "bench: cannot resolve the address of node {node}" >&2; exit 1; }}')
    return lines


def job_kwargs(opts: ExecutorOptions, log_dir: Path) -> dict[str, Any]:
    """The ``SLURMCluster`` arguments for ``opts``: one Dask worker per job, its output in ``log_dir``."""
    threads = opts.threads_per_worker or 1
    if '"' in str(log_dir):
        raise ExecutorError(f"--executor slurm: the run folder's path has a double quote, which an #SBATCH line cannot hold: {log_dir}")
    # sbatch reads a double-quoted #SBATCH value as one word, so a run folder may have spaces in its path.
    directives = [f'--output="{log_dir}/%x-%j.out"', f'--error="{log_dir}/%x-%j.err"']
    # Its HTTP server (health, metrics; no dashboard) too: it would otherwise take a port on every interface.
    extra_args = ["--host", '"$BENCH_WORKER_HOST"', "--no-dashboard", "--dashboard-address", '"$BENCH_WORKER_HOST:0"']
    if opts.gpus_per_job:
        directives.append(f"--gpus={opts.gpus_per_job}")
        extra_args += ["--resources", f"{GPU}={opts.gpus_per_job}"]
    return {
        "cores": threads,  # dask-jobqueue's worker threads: the cells a worker runs at once
        "job_cpu": opts.cores_per_job or DEFAULT_CORES,  # --cpus-per-task: what torch shares among them
        "memory": opts.memory_per_job or DEFAULT_MEMORY,
        "processes": 1,
        "walltime": opts.walltime,
        "queue": opts.partition,
        "account": opts.account,
        "job_name": JOB_NAME,
        "job_extra_directives": directives + [_directive(line) for line in opts.sbatch],
        "job_script_prologue": worker_environment(),
        "worker_extra_args": extra_args,
        "death_timeout": DEATH_TIMEOUT,
        "python": shlex.quote(sys.executable),  # dask-jobqueue pastes it into the script unquoted
        "shebang": "#!/usr/bin/env bash",
        # Without --walltime the partition's limit applies, not dask-jobqueue's default of 30 minutes.
        "job_directives_skip": [] if opts.walltime else ["#SBATCH -t "],
    }


def job_script(opts: ExecutorOptions, log_dir: Path, scheduler: str = PLACEHOLDER) -> str:
    """The batch script one worker job is submitted with (for ``bench validate``; nothing is started or written)."""
    try:
        from dask_jobqueue.slurm import SLURMJob
    except ImportError:
        raise ExecutorError("--executor slurm needs dask-jobqueue: pip install 'bench[slurm]'") from None
    job = SLURMJob(scheduler, name="0", config_name="slurm", interface=None, protocol=None, security=None, **job_kwargs(opts, log_dir))
    return job.job_script()


@contextmanager
def slurm_cluster(opts: ExecutorOptions, log_dir: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A ``SLURMCluster`` with ``opts.jobs`` worker jobs submitted; it cancels them when the run ends."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ExecutorError("--executor slurm needs dask-jobqueue: pip install 'bench[slurm]'") from None
    log_dir.mkdir(parents=True, exist_ok=True)
    host = scheduler_host()
    # No dashboard; the scheduler's HTTP server (health, metrics) on the same address, on a free port.
    options = {"host": host, "dashboard": False, "dashboard_address": f"{host}:0"}
    jobs = opts.jobs or 1
    cluster = SLURMCluster(scheduler_options=options, **job_kwargs(opts, log_dir))
    with cluster:
        cluster.scale(jobs=jobs)
        info: dict[str, Any] = {
            "kind": "slurm",
            "scheduler": cluster.scheduler_address,
            "jobs": jobs,
            "threads_per_worker": opts.threads_per_worker or 1,
            "cores_per_job": opts.cores_per_job or DEFAULT_CORES,
            "torch_threads": torch_threads(opts),
            "gpus_per_job": opts.gpus_per_job,
            "log_dir": str(log_dir),
        }
        log.info("submitted %d Slurm job(s); cells start as they run (their output: %s)", jobs, log_dir)
        try:
            yield cluster, info
        finally:
            info["job_ids"] = sorted(str(j.job_id) for j in cluster.workers.values() if getattr(j, "job_id", None))


def why_worker_died(log_dir: Path, address: str) -> str | None:
    """What Slurm says ended the job whose worker listened at ``address``, from the jobs' output in ``log_dir``."""
    for err in sorted(log_dir.glob(f"{JOB_NAME}-*.err")):
        text = err.read_text(errors="replace")
        if address not in _STARTED.findall(text):
            continue
        job = err.stem.removeprefix(f"{JOB_NAME}-")
        ended = _ENDED.search(text)
        if ended and ended.group(4):
            why = {"TIME LIMIT": "hit its time limit (--walltime)"}.get(ended.group(4), f"was cancelled due to {ended.group(4).lower()}")
        elif ended:
            why = f"was cancelled at {ended.group(3)} (scancel, or preempted)"
        elif _OOM.search(text):
            why = "ran out of memory (--memory-per-job)"
        else:
            why = "ended"
        return f"its Slurm job {job} {why}; see {err}"
    return None


def _directive(line: str) -> str:
    return line.strip().removeprefix("#SBATCH").strip()


def _fmt(seconds: float) -> str:
    return f"~{seconds / 60:.1f} min" if seconds >= 90 else f"~{seconds:.0f} s"
