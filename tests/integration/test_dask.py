"""The Dask executor: the same records as a local run, a killed worker costs one cell, one training per model.

One 2-worker LocalCluster on 127.0.0.1 serves the module. Workers die on purpose
through the ``BENCH_FAULT_EXIT`` hook (a file naming cells at whose start the
worker process exits), so nothing depends on timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from helpers.net import listening  # noqa: E402
from helpers.outputs import manifest, outputs  # noqa: E402

from bench.pipeline.executors import ExecutorOptions  # noqa: E402
from bench.pipeline.executors.dask import LOCAL_CONFIG, LOOPBACK, connect  # noqa: E402
from bench.pipeline.executors.dask_tasks import FAULT_ENV  # noqa: E402
from bench.pipeline.runner import RunOptions, run_suite  # noqa: E402
from bench.spec.load import load_suite, parse_suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "suites" / "smoke.yaml"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two single-threaded workers on 127.0.0.1 that exit at the cells the fault file names; two retries per cell.

    Two, not one: a worker that dies also loses the results it held and the tasks queued on it, which
    count against those tasks too, and on a loaded machine a task could meet two such deaths by chance.
    """
    faults = tmp_path_factory.mktemp("faults") / "faults.txt"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(FAULT_ENV, str(faults))  # inherited by the worker processes
        mp.setenv("OMP_NUM_THREADS", "1")
        config = {"distributed.scheduler.allowed-failures": 2, **LOCAL_CONFIG}
        with (
            dask.config.set(config),
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, **LOOPBACK) as c,
        ):
            c.faults = faults
            yield c


def on(cluster, out: Path, store: Path) -> RunOptions:
    return RunOptions(out=out, store_root=store, executor=ExecutorOptions("dask", scheduler=cluster.scheduler_address, torch_threads=1))


def test_records_match_a_local_run_and_a_dead_worker_loses_only_its_cell(cluster, tmp_path):
    spec = load_suite(SMOKE, [f"models.{m}.train.epochs=10" for m in ("baseline", "teacher", "distilled")])
    local = run_suite(spec, RunOptions(out=tmp_path / "local", store_root=tmp_path / "store-local"))
    assert not local.failures

    # The teacher's worker dies once (Dask retries the cell); every worker that starts "pgd on distilled" dies. A
    # cell queued on a dying worker is retried too; with two retries allowed it fails only if that happens three times.
    cluster.faults.write_text("once: train teacher\nalways: pgd on distilled\n")
    first = run_suite(spec, on(cluster, tmp_path / "dask", tmp_path / "store-dask"))
    cluster.faults.unlink()
    failed = {cell for cell, _ in first.failures}
    assert "pgd on distilled" in failed
    assert all(why.startswith("KilledWorker: its worker died while it ran or waited there, 3 time(s)") for _, why in first.failures)
    m = manifest(first.run_dir)
    assert m["status"] == "failed" and m["executor"]["kind"] == "dask"
    assert m["cells"]["train teacher"]["origin"] == "trained", "retried after its worker died"
    assert all(c["computed"]["threads"] == 1 and c["computed"]["host"] for c in m["cells"].values()), "where each cell ran"
    assert all(c["worker"].startswith("tcp://127.0.0.1:") for c in m["cells"].values())
    assert len(m["cells"]) + len(failed) == 19, "3 trainings, 3 evaluations, 13 attacks"

    again = run_suite(spec, on(cluster, tmp_path / "dask", tmp_path / "store-dask"))
    assert not again.failures
    cells = manifest(again.run_dir)["cells"]
    assert {c for c, v in cells.items() if v["origin"] in ("ran", "trained")} == failed, "only the missing cells run"
    assert {v["origin"] for c, v in cells.items() if c.startswith("train ")} == {"cache"}

    got, want = outputs(again.run_dir), outputs(local.run_dir)
    assert sorted(got) == sorted(want), "the same shards, under the same weights-keyed names"
    assert len(want) == 18
    for name in want:
        assert got[name] == want[name], name


def test_defended_and_randomized_models_give_the_same_records_as_a_local_run(cluster, tmp_path):
    # Three ids, one network (trained once per store); a randomized model judged by a seeded vote, attacked with EOT.
    overrides = [
        "models=[{id: baseline, kind: baseline, arch: small-cnn, train: {epochs: 10, batch_size: 64, lr: 0.01}}]",
        "attacks=[{id: bpda, use: bench.pgd_margin, params: {steps: 5}, view: {bpda: true}, eps: [0.2], n_samples: 60},"
        " {id: eot, use: bench.pgd_margin, params: {steps: 5, keep: last}, view: {eot: 3}, eps: [0.2], n_samples: 60}]",
    ]
    spec = load_suite(SMOKE, overrides)
    network = spec.models[0].model_dump(mode="json")
    models = [
        network,
        network | {"id": "bits", "defence": [{"name": "jpeg", "quality": 50}, {"name": "bit-depth", "bits": 2}]},
        network | {"id": "noise", "defence": [{"name": "gaussian-noise", "sigma": 0.3}], "eval_draws": 5},
    ]
    spec = parse_suite(spec.model_dump(mode="json") | {"models": models})
    local = run_suite(spec, RunOptions(out=tmp_path / "local", store_root=tmp_path / "store-local"))
    remote = run_suite(spec, on(cluster, tmp_path / "dask", tmp_path / "store-dask"))
    assert not local.failures and not remote.failures
    assert len(list((tmp_path / "store-dask").glob("*.pt"))) == 1, "one network serves the three ids"
    got, want = outputs(remote.run_dir), outputs(local.run_dir)
    assert sorted(got) == sorted(want) and len(want) == 3 * 2 + 6, "clean and diagnostics per model, two attacks on each"
    for name in want:
        assert got[name] == want[name], name


def bench_run(cluster, out: Path, store: Path) -> subprocess.Popen:
    env = dict(os.environ, BENCH_CACHE_DIR=str(store), BENCH_OFFLINE="1")
    args = ["run", str(SMOKE), "--out", str(out), "-q", "--set", "attacks=[{id: fgsm, use: torchattacks.fgsm, eps: [0.3]}]"]
    args += ["--executor", "dask", "--scheduler", cluster.scheduler_address, "--torch-threads", "1"]
    return subprocess.Popen([sys.executable, "-m", "bench", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_runs_sharing_a_store_train_each_model_once(cluster, tmp_path):
    procs = [bench_run(cluster, tmp_path / f"o{i}", tmp_path / "store") for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    entries = [(cell, v) for i in range(2) for cell, v in manifest(tmp_path / f"o{i}" / "smoke")["cells"].items()]
    # Overlapping runs share each training task (both manifests name it); a run that starts later loads from the store.
    trained = {(cell, v["task"]) for cell, v in entries if v["origin"] == "trained"}
    assert sorted(cell for cell, _ in trained) == ["train baseline", "train distilled", "train teacher"]
    assert {v["origin"] for cell, v in entries if cell.startswith("train ")} <= {"trained", "cache"}
    assert len(list((tmp_path / "store" / "models").glob("*.pt"))) == 3
    assert outputs(tmp_path / "o0" / "smoke") == outputs(tmp_path / "o1" / "smoke")


def test_clusters_listen_on_loopback_only(cluster):
    with Client(cluster) as client:
        workers = list(client.run(os.getpid).values())
    assert listening([os.getpid(), *workers]) == {"127.0.0.1"}
    # The cluster bench starts itself for --workers N.
    with connect(ExecutorOptions("dask", workers=1)) as (client, info):
        assert info["scheduler"].startswith("tcp://127.0.0.1:")
        workers = list(client.run(os.getpid).values())
        assert listening([os.getpid(), *workers]) == {"127.0.0.1"}
