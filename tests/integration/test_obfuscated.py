"""Obfuscated gradients on the smoke data: BPDA and EOT against defended copies of the smoke suite's baseline.

Every model here is the smoke run's stored baseline network behind a defence, so nothing
trains: the suite reuses the session's smoke store, as `suites/mnist-obfuscated.yaml`
reuses the default suite's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.pipeline.runner import RunOptions, run_suite
from bench.reporting.report.run_report import write_report
from bench.results.records import read_records
from bench.spec.load import parse_suite
from bench.spec.schema import SuiteSpec

# The smoke suite's baseline recipe: the same network, found in the smoke run's store.
NETWORK = {"kind": "baseline", "arch": "small-cnn", "train": {"epochs": 40, "batch_size": 64, "lr": 0.01}}
EPS = 0.3
NOISE_EPS = 0.15


def suite() -> SuiteSpec:
    return parse_suite(
        {
            "name": "obfuscated",
            "seed": 0,
            "dataset": {"name": "digits", "eval_size": 200},
            "models": [
                {"id": "baseline", **NETWORK},
                {"id": "bits", **NETWORK, "defence": [{"name": "bit-depth", "bits": 3}]},
                {"id": "noise", **NETWORK, "defence": [{"name": "gaussian-noise", "sigma": 0.5}], "eval_draws": 9},
            ],
            "attacks": [
                {"id": "pgd", "use": "torchattacks.pgd", "params": {"steps": 10}, "eps": [EPS], "models": ["baseline", "bits"]},
                {
                    "id": "bpda",
                    "use": "bench.pgd_margin",
                    "params": {"steps": 20},
                    "view": {"bpda": True},
                    "eps": [EPS],
                    "models": ["baseline", "bits"],
                },
                {
                    "id": "one-draw",
                    "use": "bench.pgd_margin",
                    "params": {"steps": 10, "keep": "last"},
                    "eps": [NOISE_EPS],
                    "models": ["noise"],
                },
                {
                    "id": "eot",
                    "use": "bench.pgd_margin",
                    "params": {"steps": 10, "keep": "last"},
                    "view": {"eot": 16},
                    "eps": [NOISE_EPS],
                    "models": ["noise"],
                },
            ],
        }
    )


def success(run_dir: Path, model: str, attack: str) -> float:
    summary = pd.read_csv(run_dir / "summary.csv")
    row = summary[(summary["model"] == model) & (summary["attack"] == attack)]
    assert len(row) == 1, (model, attack)
    return float(row["attack_success_rate"].iloc[0])


@pytest.fixture(scope="module")
def runs(smoke_cold_run, tmp_path_factory):
    """The suite run twice into two run folders, from the smoke store (so no training)."""
    base = tmp_path_factory.mktemp("obfuscated")
    out = []
    for name in ("first", "second"):
        result = run_suite(suite(), RunOptions(out=base / name, store_root=smoke_cold_run.store / "models"))
        assert not result.failures, result.failures
        write_report(result.run_dir)  # summary.csv and flags.csv, as `bench run` writes them
        out.append(result)
    return out


def test_the_defended_models_reuse_the_stored_network(runs):
    import json

    cells = json.loads((runs[0].run_dir / "manifest.json").read_text())["cells"]
    assert {cells[f"train {m}"]["origin"] for m in ("baseline", "bits", "noise")} == {"cache"}, "a defence never retrains"


def test_bpda_through_rounding_recovers_the_undefended_success_where_naive_pgd_does_not(runs):
    run_dir = runs[0].run_dir
    undefended = success(run_dir, "baseline", "bpda")
    assert undefended > 0.5
    assert success(run_dir, "bits", "bpda") >= undefended - 0.05, "BPDA sees through the rounding"
    assert success(run_dir, "bits", "pgd") < undefended - 0.3, "naive PGD meets a zero gradient"
    flags = pd.read_csv(run_dir / "flags.csv")
    verdict = flags[flags["check"] == "gradient-masking"].set_index("model")["verdict"]
    assert verdict["bits"] == "fail" and verdict["baseline"] == "pass"
    zero = flags[(flags["check"] == "zero-gradients")].set_index("model")["verdict"]
    assert zero["bits"] == "fail" and zero["baseline"] == "pass"


def test_eot_over_a_noisy_model_beats_a_single_draw(runs):
    run_dir = runs[0].run_dir
    # With three attack seeds, EOT over 8 draws broke 12 to 20 points more of the ~160 correct samples than one draw per
    # step did; after training moved to channels-last (another network, same recipe) only 5.8 points (67.3 against
    # 61.5%), so EOT now averages 16 draws, as a stronger attacker would.
    eot, one = success(run_dir, "noise", "eot"), success(run_dir, "noise", "one-draw")
    assert eot > one + 0.06, (eot, one)
    flags = pd.read_csv(run_dir / "flags.csv").set_index(["model", "check"])
    assert flags.loc[("noise", "gradient-noise"), "verdict"] == "fail"
    assert flags.loc[("noise", "randomized-model"), "verdict"] == "pass", "judged by a vote of 9 draws"
    assert flags.loc[("baseline", "gradient-noise"), "verdict"] == "pass"


def test_a_randomized_models_records_are_bit_identical_across_two_runs(runs):
    first, second = (read_records(r.run_dir).drop(columns="seconds") for r in runs)
    noisy = first[first["model"] == "noise"]
    assert len(noisy) and ((noisy["draws_correct"] > 0) & (noisy["draws_correct"] < 1)).any(), "the draws disagree somewhere"
    key = ["model", "attack", "eps", "sample"]
    pd.testing.assert_frame_equal(first.sort_values(key).reset_index(drop=True), second.sort_values(key).reset_index(drop=True))
    for name in ("diagnostics",):
        a = sorted(p.read_text() for p in (runs[0].run_dir / name).glob("*.csv"))
        b = sorted(p.read_text() for p in (runs[1].run_dir / name).glob("*.csv"))
        assert a == b
