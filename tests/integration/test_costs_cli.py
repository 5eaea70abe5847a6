"""bench costs: a finished run's costs measured again from the model store, with no training, no attack, no record touched."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from bench.cli import cli


def test_costs_are_measured_again_and_nothing_else_changes(smoke_cold_run, tmp_path):
    run_dir = tmp_path / "smoke"
    shutil.copytree(smoke_cold_run.dir, run_dir)
    records = {p.name: p.read_bytes() for p in (run_dir / "records").glob("*.csv")}
    before = json.loads((run_dir / "manifest.json").read_text())
    old = {mid: json.loads((run_dir / v["file"]).read_text()) for mid, v in before["costs"].items()}
    env = {"BENCH_CACHE_DIR": str(smoke_cold_run.store), "BENCH_OFFLINE": "1"}
    result = CliRunner().invoke(cli, ["costs", str(run_dir), "--model", "distilled", "-q"], env=env)
    assert result.exit_code == 0, result.output
    assert "distilled:" in result.output and "ms at batch 1" in result.output
    after = json.loads((run_dir / "manifest.json").read_text())
    new = json.loads((run_dir / after["costs"]["distilled"]["file"]).read_text())
    assert new["measured"]["computed_at"] != old["distilled"]["measured"]["computed_at"], "measured again"
    assert new["params"] == old["distilled"]["params"] and new["flops_per_sample"] == old["distilled"]["flops_per_sample"]
    assert new["training"] == old["distilled"]["training"], "the training cost is the store's, untouched"
    assert after["costs"]["baseline"] == before["costs"]["baseline"], "only the model asked for"
    assert {p.name: p.read_bytes() for p in (run_dir / "records").glob("*.csv")} == records, "no record touched"
    assert after["cells"] == before["cells"] and after["outputs"] == before["outputs"]
    assert "distilled" in (run_dir / "costs.csv").read_text()


def test_costs_never_trains(smoke_cold_run, tmp_path):
    run_dir = tmp_path / "smoke"
    shutil.copytree(smoke_cold_run.dir, run_dir)
    env = {"BENCH_CACHE_DIR": str(tmp_path / "empty-store"), "BENCH_OFFLINE": "1"}
    result = CliRunner().invoke(cli, ["costs", str(run_dir), "-q"], env=env)
    assert result.exit_code == 2
    assert "not in the model store" in result.output and "bench costs never trains" in result.output
    bad = CliRunner().invoke(cli, ["costs", str(run_dir), "--model", "nope", "-q"], env=env)
    assert bad.exit_code == 2 and "--model: no model nope in this run" in bad.output


def test_costs_find_the_models_under_the_keys_the_run_recorded_after_the_training_code_changed(smoke_cold_run, tmp_path):
    # A release that changes the training code derives new keys for the same recipes; the run's own models are still
    # in the store under the keys its manifest recorded. Here every model is moved to another key, as such a release
    # would leave it, and the manifest names the moved keys.
    run_dir, store = tmp_path / "smoke", tmp_path / "store"
    shutil.copytree(smoke_cold_run.dir, run_dir)
    shutil.copytree(smoke_cold_run.store, store)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for mid in ("baseline", "teacher", "distilled"):
        cell = manifest["cells"][f"train {mid}"]
        old, new = cell["key"], "0" * 8 + cell["key"][8:]
        for f in (store / "models").glob(f"{old}.*"):
            f.rename(f.with_name(new + f.name[len(old) :]))
        cell["key"] = new
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    env = {"BENCH_CACHE_DIR": str(store), "BENCH_OFFLINE": "1"}
    stored = sorted((store / "models").glob("*.pt"))  # the session's store holds other tests' models too
    result = CliRunner().invoke(cli, ["costs", str(run_dir), "-q"], env=env)
    assert result.exit_code == 0, result.output
    assert sorted((store / "models").glob("*.pt")) == stored, "nothing trained"
    after = json.loads((run_dir / "manifest.json").read_text())
    bodies = {mid: json.loads((run_dir / v["file"]).read_text()) for mid, v in after["costs"].items()}
    assert set(bodies) == {"baseline", "teacher", "distilled"}
    assert all(b["training"]["train_seconds"] is not None for b in bodies.values()), "each model's own training, from its stored metadata"
