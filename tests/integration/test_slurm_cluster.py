"""The Slurm executor on a real Slurm controller: a one-node dev cluster on 127.0.0.1 (scripts/slurm-dev-cluster.sh).

One cluster serves the module, on free ports in a temporary folder, and is stopped at
the end. Skipped where Debian's slurm-wlm and munge are not installed. A job is
cancelled mid-cell through the ``BENCH_FAULT_EXIT`` hook ("pause-once": the cell's first
attempt writes its Slurm job id and stalls), so nothing depends on timing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slurm

pytest.importorskip("dask_jobqueue")

import dask  # noqa: E402
import psutil  # noqa: E402  (a dependency of distributed)
from helpers.net import listening  # noqa: E402
from helpers.outputs import manifest, outputs  # noqa: E402

from bench.fsutil import canonical_hash  # noqa: E402
from bench.pipeline.executors import ExecutorOptions  # noqa: E402
from bench.pipeline.executors.dask import connect  # noqa: E402
from bench.pipeline.executors.dask_tasks import FAULT_ENV  # noqa: E402
from bench.pipeline.runner import RunOptions, run_suite  # noqa: E402
from bench.spec.load import load_suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "slurm-dev-cluster.sh"
SMOKE = ROOT / "suites" / "smoke.yaml"
SHORT = [f"models.{m}.train.epochs=10" for m in ("baseline", "teacher", "distilled")]
NEEDED = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "scancel")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A one-node Slurm cluster on 127.0.0.1, its SLURM_CONF set for this process (and so for the jobs it submits)."""
    path = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"
    missing = [cmd for cmd in NEEDED if shutil.which(cmd, path=path) is None]
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge")
    base = tmp_path_factory.mktemp("slurm")
    env = dict(os.environ, SLURM_DEV_DIR=str(base), SLURM_DEV_CTLD_PORT=str(free_port()), SLURM_DEV_SLURMD_PORT=str(free_port()))
    up = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=120, check=False)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SLURM_CONF", str(base / "slurm.conf"))
            mp.setenv("OMP_NUM_THREADS", "1")
            yield base
    finally:
        subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, timeout=120, check=False)


def test_smoke_on_two_jobs_writes_the_records_of_a_local_run_and_names_each_cells_job(slurm, tmp_path):
    local = run_suite(load_suite(SMOKE, SHORT), RunOptions(out=tmp_path / "local", store_root=tmp_path / "store-local"))
    assert not local.failures
    sets = [a for o in SHORT for a in ("--set", o)]
    # Spaces in the run folder's and the store's paths: the job script quotes them.
    args = ["run", str(SMOKE), "--out", str(tmp_path / "slurm runs"), "-q", "--executor", "slurm", "--jobs", "2", *sets]
    env = dict(os.environ, BENCH_CACHE_DIR=str(tmp_path / "cache slurm"))
    done = subprocess.run([sys.executable, "-m", "bench", *args], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "slurm runs" / "smoke"
    got, want = outputs(run_dir), outputs(local.run_dir)
    assert sorted(got) == sorted(want) and len(want) == 18
    for name in want:
        assert got[name] == want[name], name
    m = manifest(run_dir)
    jobs = m["executor"]["job_ids"]
    assert m["executor"]["kind"] == "slurm" and len(jobs) == 2 and m["executor"]["torch_threads"] == 1
    assert len(m["cells"]) == 19 and all(c["slurm_job"] in jobs for c in m["cells"].values()), "each cell names its job"
    assert all(c["worker"].startswith("tcp://127.0.0.1:") for c in m["cells"].values())
    assert sorted(p.name for p in (run_dir / "slurm").iterdir()) == sorted(f"bench-worker-{j}.{x}" for j in jobs for x in ("err", "out"))


def cancel_when_paused(fired: Path, cancelled: list[str]) -> threading.Thread:
    """Cancel the Slurm job named in ``fired`` once the paused cell writes it."""

    def watch() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if fired.is_file() and fired.read_text().strip():
                cancelled.append(fired.read_text().strip())
                subprocess.run(["scancel", cancelled[0]], check=True, timeout=60)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_job_cancelled_mid_cell_loses_only_that_cell_and_a_rerun_computes_exactly_what_is_missing(slurm, tmp_path, monkeypatch):
    faults = tmp_path / "faults.txt"
    faults.write_text("pause-once: pgd on baseline\n")
    monkeypatch.setenv(FAULT_ENV, str(faults))  # the job script exports BENCH_* to the workers
    spec = load_suite(SMOKE, SHORT)
    opts = RunOptions(out=tmp_path / "out", store_root=tmp_path / "store", executor=ExecutorOptions("slurm", jobs=2).check())
    cancelled: list[str] = []
    watcher = cancel_when_paused(Path(f"{faults}.{canonical_hash('pgd on baseline')[:12]}.fired"), cancelled)
    first = run_suite(spec, opts)
    watcher.join(timeout=1)
    assert cancelled, "the paused cell's job was cancelled"
    cells = manifest(first.run_dir)["cells"]
    failed = {cell for cell, _ in first.failures}
    assert failed <= {"pgd on baseline"}, first.failures
    if failed:  # reported, with what Slurm did to its job
        assert f"its Slurm job {cancelled[0]} was cancelled at " in dict(first.failures)["pgd on baseline"]
    else:  # retried on the other job
        assert cells["pgd on baseline"]["slurm_job"] != cancelled[0]
    assert len(cells) + len(failed) == 19

    monkeypatch.delenv(FAULT_ENV)
    again = run_suite(spec, opts)
    assert not again.failures
    cells = manifest(again.run_dir)["cells"]
    assert {c for c, v in cells.items() if v["origin"] in ("ran", "trained")} == failed, "only the missing cells run"


def test_the_daemons_the_scheduler_and_the_workers_listen_on_loopback_only(slurm, tmp_path):
    daemons = [int((slurm / f"{name}.pid").read_text()) for name in ("munged", "slurmctld", "slurmd")]
    with connect(ExecutorOptions("slurm", jobs=1).check(), tmp_path / "slurm") as (client, info):
        client.wait_for_workers(1, timeout=120)
        assert info["scheduler"].startswith("tcp://127.0.0.1:")
        workers = list(client.run(os.getpid).values())
        nannies = [psutil.Process(pid).ppid() for pid in workers]
        steps = [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "slurmstepd"]
        assert steps, "the worker's job step runs"
        assert listening([os.getpid(), *workers, *nannies, *daemons, *steps]) == {"127.0.0.1"}


@pytest.mark.slow  # it waits over a minute for Slurm to end the job (the shortest walltime); run with -m slow
def test_a_job_that_hits_its_walltime_is_reported_with_that_reason(slurm, tmp_path, monkeypatch):
    faults = tmp_path / "faults.txt"
    faults.write_text("pause-once: train baseline\n")
    monkeypatch.setenv(FAULT_ENV, str(faults))
    spec = load_suite(SMOKE, ["models=[{id: baseline, kind: baseline, arch: small-cnn, train: {epochs: 1}}]", "attacks=[]"])
    # One try: the first death reports the cell (the scheduler runs in this process, so this configures it).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        opts = ExecutorOptions("slurm", jobs=1, walltime="1").check()  # one minute; Slurm ends the paused job then
        run = run_suite(spec, RunOptions(out=tmp_path / "out", store_root=tmp_path / "store", executor=opts))
    why = dict(run.failures)["train baseline"]
    assert why.startswith("KilledWorker: its worker died while it ran or waited there, 1 time(s); its Slurm job ")
    assert " hit its time limit (--walltime); see " in why


def test_two_runs_sharing_a_store_on_the_cluster_train_each_model_once(slurm, tmp_path):
    # Two drivers, two schedulers, one job each: only the model store (and its per-key lock) is shared.
    env = dict(os.environ, BENCH_CACHE_DIR=str(tmp_path / "store"))
    sets = [a for o in [*SHORT, "attacks=[{id: fgsm, use: torchattacks.fgsm, eps: [0.3]}]"] for a in ("--set", o)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench", "run", str(SMOKE), "--out", str(tmp_path / f"o{i}"), "-q", "--executor", "slurm", *sets],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    entries = [(cell, v) for i in range(2) for cell, v in manifest(tmp_path / f"o{i}" / "smoke")["cells"].items()]
    trained = sorted(cell for cell, v in entries if v["origin"] == "trained")
    assert trained == ["train baseline", "train distilled", "train teacher"], "each model trained by one run only"
    assert {v["origin"] for cell, v in entries if cell.startswith("train ")} <= {"trained", "cache"}
    assert len(list((tmp_path / "store" / "models").glob("*.pt"))) == 3
    assert outputs(tmp_path / "o0" / "smoke") == outputs(tmp_path / "o1" / "smoke")
