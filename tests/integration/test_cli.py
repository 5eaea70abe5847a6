"""The CLI end to end on the smoke suite, in a temporary folder, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bench.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SMOKE = str(ROOT / "suites" / "smoke.yaml")


@pytest.fixture(scope="module")
def smoke_run(smoke_cold_run, tmp_path_factory):
    """The session's cold smoke run, and a warm re-run of the same suite into a copy of its folder, on the same store."""
    base = tmp_path_factory.mktemp("smoke")
    shutil.copytree(smoke_cold_run.dir, base / "out" / "smoke")
    cold_manifest = json.loads((smoke_cold_run.dir / "manifest.json").read_text())
    cold_summary = (smoke_cold_run.dir / "summary.csv").read_text()
    env = {"BENCH_CACHE_DIR": str(smoke_cold_run.store), "BENCH_OFFLINE": "1"}
    warm = CliRunner().invoke(cli, ["run", SMOKE, "--out", str(base / "out"), "-q"], env=env)
    cold = smoke_cold_run.result
    out = {"cold": cold, "warm": warm, "dir": base / "out" / "smoke", "cold_dir": smoke_cold_run.dir}
    return out | {"cold_manifest": cold_manifest, "cold_summary": cold_summary}


def test_run_writes_the_run_folder(smoke_run):
    res = smoke_run["cold"]
    assert res.exit_code == 0, res.output + str(res.exception)
    run_dir = smoke_run["dir"]
    assert res.stdout.strip().splitlines()[-1] == str(smoke_run["cold_dir"])
    for name in ["manifest.json", "summary.csv", "summary.md", "flags.csv", "plots/robust_accuracy_vs_eps.png"]:
        assert (run_dir / name).is_file(), name
    summary = pd.read_csv(run_dir / "summary.csv")
    assert set(summary["model"]) == {"baseline", "distilled"}
    # Every rate is its count over its denominator, so the gate and figures can read counts.
    assert (summary["robust_accuracy"] - summary["n_robust"] / summary["n_samples"]).abs().max() < 1e-6
    assert (summary["clean_accuracy"] - summary["n_correct"] / summary["n_samples"]).abs().max() < 1e-6
    attacked = summary[summary["n_correct"] > 0]
    assert (attacked["attack_success_rate"] - attacked["n_success"] / attacked["n_correct"]).abs().max() < 1e-6
    assert set(summary.loc[summary["attack"] == "fgsm", "n_samples"]) == {200}
    manifest = smoke_run["cold_manifest"]
    assert manifest["status"] == "complete" and manifest["data"]["n_eval"] == 200
    cells = manifest["cells"]
    # 3 models trained, 3 evaluated, 13 attack cells (6 attacks on two models, one transfer attack).
    assert sorted(c.split()[0] for c in cells if c.split()[0] in ("train", "evaluate")).count("train") == 3
    assert len(cells) == 3 + 3 + 13 and all(c["origin"] in ("trained", "ran") for c in cells.values())
    assert all(c["computed"]["threads"] >= 1 and c["computed"]["versions"]["torch"] for c in cells.values())
    on_disk = {p.name for folder in ("records", "diagnostics") for p in (run_dir / folder).glob("*.csv")}
    assert set(manifest["outputs"]) == on_disk


def test_records_hold_one_row_per_model_attack_eps_sample(smoke_run):
    records = pd.concat([pd.read_csv(p) for p in (smoke_run["dir"] / "records").glob("*.csv")])
    fgsm = records[(records["attack"] == "fgsm") & (records["model"] == "baseline")]
    assert len(fgsm) == 3 * 200
    assert fgsm.groupby("eps")["sample"].nunique().tolist() == [200, 200, 200]
    assert records[records["attack"] == "cw"]["eps"].map(str).eq("inf").all()


def test_rerun_trains_nothing_and_changes_nothing(smoke_run):
    res = smoke_run["warm"]
    assert res.exit_code == 0, res.output
    manifest = json.loads((smoke_run["dir"] / "manifest.json").read_text())
    origins = {cell: c["origin"] for cell, c in manifest["cells"].items()}
    assert all(origins[c] == "cache" for c in origins if c.startswith("train "))
    assert all(origins[c] == "done" for c in origins if not c.startswith("train "))
    assert (smoke_run["dir"] / "summary.csv").read_text() == smoke_run["cold_summary"]


def test_distilled_model_is_flagged_and_baseline_is_not(smoke_run):
    flags = pd.read_csv(smoke_run["dir"] / "flags.csv")
    verdict = flags[flags["check"] == "gradient-masking"].set_index("model")["verdict"]
    assert verdict["distilled"] == "fail"
    # The undefended baseline (FGSM, PGD, margin PGD, C&W) passes every masking check, not only the summary verdict.
    masking = flags[(flags["category"] == "masking") & (flags["model"] == "baseline")]
    assert len(masking) >= 3 and set(masking["verdict"]) == {"pass"}, masking[["check", "verdict", "message"]]


def test_papernot_effect_on_smoke(smoke_run):
    s = pd.read_csv(smoke_run["dir"] / "summary.csv").set_index(["model", "attack", "eps"])
    assert s.loc[("distilled", "fgsm", 0.3), "attack_success_rate"] < s.loc[("baseline", "fgsm", 0.3), "attack_success_rate"] - 0.3
    assert s.loc[("distilled", "pgd-margin", 0.3), "attack_success_rate"] > 0.95


def test_bad_spec_exits_2_with_one_line_and_writes_nothing(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(Path(SMOKE).read_text().replace("steps: 10}", "stepz: 10}", 1))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(spec), "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr == "error: attacks[1].params.stepz: unknown field; did you mean 'steps'? (valid: steps, alpha, random_start)\n"
    assert "Traceback" not in res.output
    assert not out.exists()


def test_bad_executor_flags_exit_2_with_one_line(tmp_path):
    res = CliRunner().invoke(cli, ["run", SMOKE, "--out", str(tmp_path), "--workers", "2"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: --workers: only with --executor dask (the local executor runs cells in this process)"
    assert not (tmp_path / "smoke").exists(), "nothing written"


def test_validate_and_run_refuse_a_missing_plugin_in_one_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: p\nplugins: [plug_absent]\ndataset: {name: digits}\nmodels: [{id: a, kind: baseline, arch: tiny-mlp}]\n")
    for args in (["validate", str(spec)], ["run", str(spec), "--out", str(tmp_path / "out")]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 2
        assert res.stderr == "error: plugins[0]: cannot import 'plug_absent' (No module named 'plug_absent')\n"
    assert not (tmp_path / "out").exists()


def test_set_override_is_validated(tmp_path):
    res = CliRunner().invoke(cli, ["run", SMOKE, "--out", str(tmp_path / "o"), "--set", "dataset.eval_size=-1"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: dataset.eval_size: input should be greater than or equal to 1"


def test_missing_data_names_the_files_and_paths(tmp_path):
    spec = tmp_path / "m.yaml"
    spec.write_text("name: m\ndataset: {name: mnist}\nmodels: [{id: a, kind: baseline, arch: papernot-mnist}]\n")
    res = CliRunner().invoke(
        cli, ["run", str(spec), "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path / "empty")], env={"BENCH_DATA_DIR": ""}
    )
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert line.startswith("error: mnist: files not found (need train-images-idx3-ubyte.gz")
    assert str(tmp_path / "empty" / "MNIST" / "raw") in line
    assert len(res.stderr.strip().splitlines()) == 1


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # A path under a regular file cannot be created, even by root (for whom chmod is no barrier).
    res = CliRunner().invoke(cli, ["run", SMOKE, "--out", str(blocker / "sub")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {blocker / 'sub' / 'smoke'}: cannot write the run folder")


def test_validate_and_ls():
    runner = CliRunner()
    res = runner.invoke(cli, ["validate", SMOKE])
    assert res.exit_code == 0
    assert "cells: 3 training, 13 attack" in res.stdout
    res = runner.invoke(cli, ["ls", "attacks"])
    assert res.exit_code == 0
    keys = [line.split()[0] for line in res.stdout.splitlines()]
    for key in [
        "torchattacks.fgsm",
        "torchattacks.pgd",
        "torchattacks.cw",
        "torchattacks.deepfool",
        "art.fgsm",
        "art.pgd",
        "art.jsma",
        "art.cw_l2",
        "art.deepfool",
        "bench.cw_l2",
        "bench.pgd_margin",
    ]:
        assert key in keys
    datasets = {line.split()[0]: line for line in runner.invoke(cli, ["ls", "datasets"]).stdout.splitlines()}
    assert {"digits", "mnist", "fashion-mnist", "cifar10", "arrays"} <= set(datasets)
    assert datasets["cifar10"].split()[1:3] == ["3x32x32", "10"] and datasets["digits"].endswith("[bench]")


@pytest.mark.parametrize("args", [[], ["run"], ["validate"], ["ls"], ["report"], ["describe"], ["check"], ["leaderboard"]])
def test_help_is_useful(args):
    res = CliRunner().invoke(cli, [*args, "--help"])
    assert res.exit_code == 0
    assert len(res.stdout.splitlines()) > 5


BASELINE = str(ROOT / "baselines" / "smoke.json")


def test_dogfood_smoke_run_passes_the_committed_baseline(smoke_run, tmp_path):
    junit = tmp_path / "check.xml"
    res = CliRunner().invoke(cli, ["check", str(smoke_run["dir"]), "--baseline", BASELINE, "--junit", str(junit)])
    assert res.exit_code == 0, res.output
    assert "regressed" not in res.stdout.splitlines()[-1]
    assert junit.is_file()


def test_dogfood_weakened_attack_fails_the_gate(smoke_run, tmp_path):
    # Simulate a broken attack adapter: margin PGD on the distilled model stops finding half its examples.
    import shutil

    run_dir = tmp_path / "smoke"
    shutil.copytree(smoke_run["dir"], run_dir)
    shard = next((run_dir / "records").glob("distilled__pgd-margin.*.csv"))
    rec = pd.read_csv(shard)
    hit = rec.index[rec["success"]][::2]
    rec.loc[hit, "adv_pred"] = rec.loc[hit, "label"]
    rec.loc[hit, "success"] = False
    rec.loc[hit, "robust"] = True
    rec.to_csv(shard, index=False)
    assert CliRunner().invoke(cli, ["report", str(run_dir)]).exit_code == 0
    res = CliRunner().invoke(cli, ["check", str(run_dir), "--baseline", BASELINE])
    assert res.exit_code == 1
    assert "attack_success_rate/distilled/pgd-margin/linf/0.3" in res.stdout
    assert "regressed" in res.stdout


def test_dogfood_wrong_temperature_is_caught(tmp_path, smoke_cold_run):
    # A distilled model trained at T=1 instead of T=100: the spec changed (exit 2), and when the
    # comparison is forced, the gate names the metrics that moved. (The session's store holds the baseline.)
    env = {"BENCH_CACHE_DIR": str(smoke_cold_run.store), "BENCH_OFFLINE": "1"}
    sets = ["--set", "models.teacher.train.temperature=1", "--set", "models.distilled.train.temperature=1"]
    res = CliRunner().invoke(cli, ["run", SMOKE, "--out", str(tmp_path), "-q", *sets], env=env)
    assert res.exit_code == 0, res.output
    refused = CliRunner().invoke(cli, ["check", str(tmp_path / "smoke"), "--baseline", BASELINE])
    assert refused.exit_code == 2
    assert "spec hash differs" in refused.stderr
    forced = CliRunner().invoke(cli, ["check", str(tmp_path / "smoke"), "--baseline", BASELINE, "--allow-spec-change"])
    assert forced.exit_code == 1
    assert "robust_accuracy/distilled/fgsm/linf/0.3" in forced.stdout.split("regressed:")[1]
