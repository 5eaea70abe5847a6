"""The audit end to end on digits: AutoAttack, HopSkipJump, both backends, traced attacks, then `bench attack-test`."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from bench.cli import cli

SUITE = """
name: audit
seed: 0
dataset: {name: digits, eval_size: 40}
models:
  - {id: baseline, kind: baseline, arch: tiny-mlp, train: {epochs: 15, batch_size: 64, lr: 0.01}}
attacks:
  - {id: pgd-ce, use: bench.pgd_margin, tag: naive, params: {steps: 10, loss: ce}, eps: [0.2]}
  - {id: pgd-margin, use: bench.pgd_margin, params: {steps: 10, restarts: 2}, eps: [0.2]}
  - {id: aa, use: aa.standard, params: {n_iter: 5, n_queries: 20}, n_samples: 20, eps: [0.2]}
  - {id: hsj, use: art.hop_skip_jump, norm: linf, params: {max_iter: 2, max_eval: 100, init_eval: 10}, n_samples: 10, eps: [0.2]}
  - {id: fgsm, use: torchattacks.fgsm, eps: [0.2]}
  - {id: art-fgsm, use: art.fgsm, eps: [0.2]}
"""


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    base = tmp_path_factory.mktemp("audit")
    spec = base / "audit.yaml"
    spec.write_text(SUITE)
    env = {"BENCH_CACHE_DIR": str(base / "store"), "BENCH_OFFLINE": "1"}
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", str(spec), "--out", str(base / "out"), "-q"], env=env)
    assert ran.exit_code == 0, ran.output
    run_dir = base / "out" / "audit"
    tested = runner.invoke(cli, ["attack-test", str(run_dir), "-n", "6", "--n-inner", "40", "--attack", "pgd-margin", "-q"], env=env)
    return run_dir, tested


def test_the_run_records_details_and_the_report_shows_the_audit(audited):
    run_dir, _ = audited
    assert {p.name.split("__")[1].split(".")[0] for p in (run_dir / "details").glob("*.npz")} == {"pgd-ce", "pgd-margin", "aa"}
    report = (run_dir / "report.md").read_text()
    for heading in ("## AutoAttack by sub-attack", "## Indicators of attack failure", "## Attack unit tests (binarization)"):
        assert heading in report
    assert (run_dir / "plots" / "loss_traces.png").is_file()
    flags = pd.read_csv(run_dir / "flags.csv", keep_default_na=False)
    checks = set(flags["check"])
    assert {"probability-outputs", "randomized-model", "dynamic-model", "backend-disagreement", "silent-success"} <= checks
    assert (flags.loc[flags["check"].isin(["probability-outputs", "randomized-model", "dynamic-model"]), "verdict"] == "pass").all()
    # HopSkipJump, decision-based, feeds the per-sample comparison with the white-box attacks.
    assert flags.loc[flags["check"] == "transfer-beats-whitebox", "attack"].str.contains("hsj").any()


def test_attack_test_writes_its_table_and_a_flag(audited):
    run_dir, tested = audited
    assert tested.exit_code == 0, tested.output
    tests = pd.read_csv(run_dir / "attack_tests.csv", keep_default_na=False)
    assert list(tests["attack"]) == ["pgd-margin"] and tests["n_feasible"].iloc[0] >= 3
    flags = pd.read_csv(run_dir / "flags.csv", keep_default_na=False)
    assert (flags["check"] == "binarization-test").sum() == 1


def test_attack_test_rejects_an_unknown_attack(audited):
    run_dir, _ = audited
    res = CliRunner().invoke(cli, ["attack-test", str(run_dir), "--attack", "nope"])
    assert res.exit_code == 2 and "no attack nope" in res.output
