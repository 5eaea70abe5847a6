"""Reliability: resume after SIGKILL, failure isolation, cache integrity, safe loading, concurrency."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from bench.attacks.base import Attack
from bench.catalogue.attacks import ATTACKS
from bench.cli import cli
from bench.commands.run import run_and_report as run_suite
from bench.errors import CacheError, RunFailed
from bench.pipeline.executors.local import PAUSE_ENV
from bench.pipeline.models.store import ModelStore, load_state_dict
from bench.pipeline.runner import RunOptions
from bench.spec.load import load_suite

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "suites" / "smoke.yaml"
PAUSE_AFTER = 8  # attack cells; the smoke suite has 13


class Child(subprocess.Popen):
    """A `bench` child process whose stderr goes to a file, read with ``stderr_text``."""

    err_path: Path

    def stderr_text(self) -> str:
        return self.err_path.read_text()


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and Python keeps
    # an ignored SIGINT ignored: the Ctrl-C test would then time out however bench behaves.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def bench_cmd(*args: str, store: Path, log: Path | None = None, pause_after: int | None = None) -> Child:
    """Run `bench` in a child process; output goes to files, so no unread pipe can ever block it."""
    env = dict(os.environ, BENCH_CACHE_DIR=str(store), BENCH_OFFLINE="1", OMP_NUM_THREADS="1")
    env.pop(PAUSE_ENV, None)
    if pause_after is not None:
        env[PAUSE_ENV] = str(pause_after)
    log = log or store.parent / f"bench-{len(list(store.parent.glob('bench-*.log')))}.log"
    with open(log, "w") as out, open(log.with_suffix(".err"), "w") as err:
        proc = Child([sys.executable, "-m", "bench", *args], env=env, stdout=out, stderr=err, text=True, preexec_fn=_default_sigint)
    proc.err_path = log.with_suffix(".err")
    return proc


def wait_for_pause(proc: Child, run_dir: Path, timeout: float = 300) -> None:
    """Wait until the run pauses at the test hook (the hook writes .paused), or fail if it exits first."""
    deadline = time.monotonic() + timeout
    while not (run_dir / ".paused").exists():
        assert proc.poll() is None, f"the run ended before it paused: {proc.stderr_text()}"
        assert time.monotonic() < deadline, "the run never reached the pause point"
        time.sleep(0.02)


def attack_shards(run_dir: Path) -> list[Path]:
    return [p for p in (run_dir / "records").glob("*.csv") if "__clean." not in p.name] if (run_dir / "records").exists() else []


def test_sigkill_mid_attacks_then_resume_equals_clean_run(tmp_path, smoke_cold_run):
    store = smoke_cold_run.store  # the clean run's models: the killed run loads them and starts on the attacks
    killed_dir = tmp_path / "killed" / "smoke"
    proc = bench_cmd("run", str(SMOKE), "--out", str(tmp_path / "killed"), "-q", store=store, pause_after=PAUSE_AFTER)
    wait_for_pause(proc, killed_dir)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(attack_shards(killed_dir))
    assert done_before == PAUSE_AFTER
    assert json.loads((killed_dir / "manifest.json").read_text())["status"] == "running"
    resumed = bench_cmd("run", str(SMOKE), "--out", str(tmp_path / "killed"), "-q", store=store)
    assert resumed.wait(timeout=300) == 0, resumed.stderr_text()
    manifest = json.loads((killed_dir / "manifest.json").read_text())
    ran = [c for c, v in manifest["cells"].items() if v["origin"] == "ran"]
    assert len(ran) == 13 - done_before, "only the missing cells run again"
    assert (killed_dir / "summary.csv").read_text() == (smoke_cold_run.dir / "summary.csv").read_text()


class Broken(Attack):
    """Raises, for the failure-isolation test."""

    description = "always raises"

    def generate(self, target, x, y, eps):
        raise RuntimeError("deliberately broken")


class WrongShape(Attack):
    """Returns a tensor of the wrong shape."""

    def generate(self, target, x, y, eps):
        return x[:, :, :4]


class NotANumber(Attack):
    """Returns NaN."""

    def generate(self, target, x, y, eps):
        return x * float("nan")


@pytest.fixture
def broken_attacks():
    for key, cls in [("test.broken", Broken), ("test.wrong_shape", WrongShape), ("test.nan", NotANumber)]:
        ATTACKS.register(key, cls)
    yield
    for key in ("test.broken", "test.wrong_shape", "test.nan"):
        ATTACKS.unregister(key)


def test_failure_isolation(tmp_path, broken_attacks, smoke_cold_run):
    overrides = [
        "attacks.0.use=test.broken",
        "attacks.1.use=test.wrong_shape",
        "attacks.1.params={}",
        "attacks.2.use=test.nan",
    ]
    spec = load_suite(SMOKE, overrides)
    with pytest.raises(RunFailed) as info:
        run_suite(spec, RunOptions(out=tmp_path, store_root=smoke_cold_run.store))  # its trained models: only attacks run
    failed = dict(info.value.failures)
    assert failed["fgsm on baseline"] == "RuntimeError: deliberately broken"
    assert failed["pgd on distilled"].startswith("AttackError: backend returned shape (")
    assert failed["art-fgsm on baseline"] == "AttackError: backend returned NaN or inf"
    assert len(failed) == 6
    run_dir = tmp_path / "smoke"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert {f["cell"] for f in manifest["failures"]} == set(failed)
    summary = pd.read_csv(run_dir / "summary.csv")
    assert {"jsma", "pgd-margin", "cw", "transfer-pgd"} <= set(summary["attack"])
    # The CLI reports the same with exit code 1 and the list of failures.
    res = CliRunner().invoke(
        cli,
        ["run", str(SMOKE), "--out", str(tmp_path), "-q", *sum([["--set", o] for o in overrides], [])],
        env={"BENCH_CACHE_DIR": str(smoke_cold_run.store)},
    )
    assert res.exit_code == 1
    assert "fgsm on baseline: RuntimeError: deliberately broken" in res.stderr


def test_corrupted_checkpoint_is_detected_and_retrained(tmp_path, caplog):
    spec = load_suite(SMOKE, ["attacks=[]"])
    opts = RunOptions(out=tmp_path, store_root=tmp_path / "store")
    run_suite(spec, opts)
    ckpts = sorted((tmp_path / "store").glob("*.pt"))
    assert len(ckpts) == 3
    victim = ckpts[0]
    victim.write_bytes(victim.read_bytes()[:-100])  # truncated
    caplog.set_level("WARNING")
    run_suite(spec, opts)
    manifest = json.loads((tmp_path / "smoke" / "manifest.json").read_text())
    origins = sorted(c["origin"] for c in manifest["cells"].values())
    assert origins.count("trained") >= 1 and origins.count("cache") >= 1
    assert "is corrupt" in caplog.text
    store = ModelStore(tmp_path / "store")
    assert store.load(victim.stem) is not None, "the retrained checkpoint verifies"


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_checkpoint_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"w": Evil()}, fh)
    with pytest.raises(CacheError, match="refused, loading it would execute pickled code"):
        load_state_dict(path)
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(
        SMOKE.read_text().replace(
            "    arch: small-cnn\n    train: {epochs: 40, batch_size: 64, lr: 0.01}\n", "    arch: small-cnn\n    checkpoint: evil.pt\n", 1
        )
    )
    res = CliRunner().invoke(
        cli, ["run", str(spec_path), "--out", str(tmp_path / "out"), "-q"], env={"BENCH_CACHE_DIR": str(tmp_path / "store")}
    )
    assert res.exit_code == 2
    assert "refused, loading it would execute pickled code" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_external_checkpoint_is_loaded(tmp_path):
    spec = load_suite(SMOKE, ["attacks=[]"])
    run_suite(spec, RunOptions(out=tmp_path, store_root=tmp_path / "store"))
    key = json.loads((tmp_path / "smoke" / "manifest.json").read_text())["cells"]["train baseline"]["key"]
    weights = tmp_path / "mine.pt"
    torch.save(torch.load(tmp_path / "store" / f"{key}.pt", weights_only=True), weights)
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(
        SMOKE.read_text().replace(
            "    arch: small-cnn\n    train: {epochs: 40, batch_size: 64, lr: 0.01}\n", "    arch: small-cnn\n    checkpoint: mine.pt\n", 1
        )
    )
    run_suite(load_suite(spec_path, ["attacks=[]"]), RunOptions(out=tmp_path / "o2", store_root=tmp_path / "store"))
    a = pd.read_csv(tmp_path / "smoke" / "clean.csv").set_index("model")
    b = pd.read_csv(tmp_path / "o2" / "smoke" / "clean.csv").set_index("model")
    assert a.loc["baseline", "clean_accuracy"] == b.loc["baseline", "clean_accuracy"]
    manifest = json.loads((tmp_path / "o2" / "smoke" / "manifest.json").read_text())
    assert manifest["cells"]["train baseline"]["origin"] == "checkpoint"


def test_concurrent_runs_share_one_store(tmp_path):
    store = tmp_path / "store"
    # What is shared is the store, so one cheap attack is enough: both runs still train (or wait for) all three models.
    one_attack = ["--set", "attacks=[{id: fgsm, use: torchattacks.fgsm, eps: [0.3]}]"]
    procs = [
        bench_cmd("run", str(SMOKE), "--out", str(tmp_path / f"o{i}"), "-q", *one_attack, store=store, log=tmp_path / f"o{i}.log")
        for i in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr_text()
    models = store / "models"
    assert len(list(models.glob("*.pt"))) == 3
    trained = []
    for i in range(2):
        manifest = json.loads((tmp_path / f"o{i}" / "smoke" / "manifest.json").read_text())
        trained += [c for c, v in manifest["cells"].items() if v["origin"] == "trained"]
    assert sorted(trained) == ["train baseline", "train distilled", "train teacher"], "each model trained exactly once"
    assert (tmp_path / "o0" / "smoke" / "summary.csv").read_text() == (tmp_path / "o1" / "smoke" / "summary.csv").read_text()
    for ckpt in models.glob("*.pt"):
        assert ModelStore(models).load(ckpt.stem) is not None


def test_corrupt_dataset_files_are_named(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    import gzip

    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        with gzip.open(raw / name, "wb") as fh:
            fh.write(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x02" + b"\x01\x02")
    spec = tmp_path / "m.yaml"
    spec.write_text("name: m\ndataset: {name: mnist}\nmodels: [{id: a, kind: baseline, arch: papernot-mnist}]\n")
    res = CliRunner().invoke(cli, ["run", str(spec), "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path)])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {raw / 'train-images-idx3-ubyte.gz'}: checksum mismatch")
    assert not (tmp_path / "o").exists(), "nothing written"


def test_two_cold_runs_give_identical_records(tmp_path, smoke_cold_run):
    # Same seed, same CPU, same thread count (set by conftest): training and attacks are deterministic.
    run_suite(load_suite(SMOKE), RunOptions(out=tmp_path / "o", store_root=tmp_path / "store"))
    a, b = (smoke_cold_run.dir, tmp_path / "o" / "smoke")
    names = sorted(p.name for p in (a / "records").glob("*.csv"))
    assert names and names == sorted(p.name for p in (b / "records").glob("*.csv"))
    for name in names:
        ra, rb = pd.read_csv(a / "records" / name), pd.read_csv(b / "records" / name)
        pd.testing.assert_frame_equal(ra.drop(columns="seconds"), rb.drop(columns="seconds"))
    assert (a / "summary.csv").read_text() == (b / "summary.csv").read_text()


def test_a_failed_model_keeps_its_earlier_results(tmp_path, monkeypatch, smoke_cold_run):
    spec = load_suite(SMOKE, ["attacks=[{id: fgsm, use: torchattacks.fgsm, eps: [0.3]}]"])
    run_suite(spec, RunOptions(out=tmp_path, store_root=smoke_cold_run.store))
    before = sorted(p.name for p in (tmp_path / "smoke" / "records").glob("*.csv"))
    import bench.pipeline.cells.train

    real_fit = bench.pipeline.cells.train.fit

    def flaky_fit(model, *args, desc="", **kwargs):
        if "distilled" in desc:
            raise RuntimeError("out of memory (simulated)")
        return real_fit(model, *args, desc=desc, **kwargs)

    monkeypatch.setattr(bench.pipeline.cells.train, "fit", flaky_fit)
    with pytest.raises(RunFailed):
        run_suite(spec, RunOptions(out=tmp_path, store_root=tmp_path / "empty-store"))
    after = sorted(p.name for p in (tmp_path / "smoke" / "records").glob("*.csv"))
    assert [n for n in before if n.startswith("distilled__")] == [n for n in after if n.startswith("distilled__")]


def test_an_edited_attack_keeps_its_old_shard_but_reports_only_the_new_one(tmp_path, smoke_cold_run):
    opts = RunOptions(out=tmp_path, store_root=smoke_cold_run.store)
    run_suite(load_suite(SMOKE, ["attacks=[{id: pgd, use: torchattacks.pgd, params: {steps: 2}, eps: [0.1]}]"]), opts)
    spec = load_suite(SMOKE, ["attacks=[{id: pgd, use: torchattacks.pgd, params: {steps: 3}, eps: [0.1]}]"])
    run_suite(spec, opts)
    shards = sorted(p.name for p in (tmp_path / "smoke" / "records").glob("baseline__pgd.*.csv"))
    assert len(shards) == 2, "the steps=2 records are a variant someone paid for: kept, for a later run to reuse"
    summary = pd.read_csv(tmp_path / "smoke" / "summary.csv")
    assert summary.query("model == 'baseline' and attack == 'pgd'")["n_samples"].tolist() == [200], "counted once"


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, smoke_cold_run):
    store = smoke_cold_run.store  # trained models: the run reaches its attacks at once
    run_dir = tmp_path / "out" / "smoke"
    # Without -q: progress bars fill stderr, which goes to a file and can never block the child.
    proc = bench_cmd("run", str(SMOKE), "--out", str(tmp_path / "out"), store=store, pause_after=PAUSE_AFTER)
    wait_for_pause(proc, run_dir)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    err = proc.stderr_text()
    assert proc.returncode == 130, err
    assert "interrupted: finished cells are saved; to resume, run the same command again: bench run" in err
    assert "Traceback" not in err
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "interrupted"
    resumed = bench_cmd("run", str(SMOKE), "--out", str(tmp_path / "out"), "-q", store=store)
    assert resumed.wait(timeout=300) == 0, resumed.stderr_text()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert any(v["origin"] == "done" for v in manifest["cells"].values())
