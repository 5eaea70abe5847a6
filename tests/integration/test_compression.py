"""Distillation as compression, end to end on digits: a smaller student of another architecture, at T=1 and T=100,
and what every model costs, in the run folder, the report and the leaderboard."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bench.cli import cli

TRAIN = {"epochs": 8, "batch_size": 64, "lr": 0.01}
SUITE = {
    "name": "compress",
    "dataset": {"name": "digits", "eval_size": 40},
    "models": [
        {"id": "base", "kind": "baseline", "arch": "small-cnn", "train": TRAIN},
        {"id": "teacher", "kind": "teacher", "arch": "small-cnn", "train": TRAIN | {"temperature": 100}},
        {"id": "kd", "kind": "student", "teacher": "teacher", "arch": "tiny-mlp", "train": TRAIN | {"temperature": 1}},
        {"id": "dd", "kind": "student", "teacher": "teacher", "arch": "tiny-mlp", "train": TRAIN | {"temperature": 100}},
    ],
    "attacks": [
        {"id": "pgd", "use": "torchattacks.pgd", "params": {"steps": 3}, "eps": [0.2]},
        {"id": "pgdm", "use": "bench.pgd_margin", "params": {"steps": 3}, "eps": [0.2]},
    ],
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("compress")
    (base / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    env = {"BENCH_CACHE_DIR": str(base / "store"), "BENCH_OFFLINE": "1"}
    res = CliRunner().invoke(cli, ["run", str(base / "suite.yaml"), "--out", str(base / "out"), "-q"], env=env)
    return {"res": res, "dir": base / "out" / "compress", "env": env, "base": base}


def test_smaller_students_at_t1_and_t100_train_from_a_larger_teacher(run):
    assert run["res"].exit_code == 0, run["res"].output + str(run["res"].exception)
    manifest = json.loads((run["dir"] / "manifest.json").read_text())
    assert {c: manifest["cells"][f"train {c}"]["origin"] for c in ("teacher", "kd", "dd")} == dict.fromkeys(
        ("teacher", "kd", "dd"), "trained"
    )
    clean = pd.read_csv(run["dir"] / "clean.csv").set_index("model")["clean_accuracy"]
    # Both students learned from the teacher's soft labels (chance is 10%).
    assert clean["kd"] > 0.6 and clean["dd"] > 0.6


def test_every_model_has_its_cost_in_the_run_folder(run):
    costs = pd.read_csv(run["dir"] / "costs.csv").set_index("model")
    assert sorted(costs.index) == ["base", "dd", "kd", "teacher"], "teachers are measured too"
    assert costs.loc["kd", "params"] == costs.loc["dd", "params"] == 64 * 32 + 32 + 32 * 10 + 10
    assert costs.loc["kd", "params"] < costs.loc["teacher", "params"] / 2
    assert costs.loc["kd", "flops_per_sample"] == 2 * (64 * 32 + 32 * 10), "FlopCounterMode's count, as by hand"
    for col in ["checkpoint_bytes", "latency_batch1_ms", "latency_large_ms", "threads", "train_seconds", "train_cpu_seconds"]:
        assert (costs[col] > 0).all(), col
    assert (costs["epochs"] == 8).all()
    # A student's training includes its teacher's, measured when each was trained.
    for student in ("kd", "dd"):
        assert costs.loc[student, "total_train_seconds"] == pytest.approx(
            costs.loc[student, "train_seconds"] + costs.loc["teacher", "train_seconds"]
        )
        assert costs.loc[student, "total_epochs"] == 16


def test_the_report_shows_the_cost_table_and_figure(run):
    html = (run["dir"] / "report.html").read_text()
    assert '<section id="cost">' in html and "FlopCounterMode" in html
    assert 'id="fig-cost"' in html and (run["dir"] / "plots" / "cost.png").is_file()
    assert "## Cost" in (run["dir"] / "summary.md").read_text()


def test_a_rerun_reuses_the_cost_measurement_and_keeps_the_original_training_cost(run):
    before = pd.read_csv(run["dir"] / "costs.csv")
    again = CliRunner().invoke(cli, ["run", str(run["base"] / "suite.yaml"), "--out", str(run["dir"].parent), "-q"], env=run["env"])
    assert again.exit_code == 0, again.output
    manifest = json.loads((run["dir"] / "manifest.json").read_text())
    assert {c["origin"] for c in manifest["costs"].values()} == {"done"}
    pd.testing.assert_frame_equal(pd.read_csv(run["dir"] / "costs.csv"), before)


def test_leaderboard_shows_costs_sorts_and_filters_by_them(run):
    res = CliRunner().invoke(cli, ["leaderboard", str(run["dir"]), "--format", "csv", "--sort", "params"])
    assert res.exit_code == 0, res.output
    board = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert {"params", "flops_per_sample", "latency_batch1_ms", "train_seconds"} <= set(board.columns)
    reliable = board[~board["unreliable"]]
    assert list(reliable["params"]) == sorted(reliable["params"])
    small = CliRunner().invoke(cli, ["leaderboard", str(run["dir"]), "--format", "csv", "--max-params", "10000"])
    assert set(pd.read_csv(pd.io.common.StringIO(small.stdout))["model"]) == {"kd", "dd"}
    none = CliRunner().invoke(cli, ["leaderboard", str(run["dir"]), "--max-params", "5"])
    assert none.exit_code == 2 and "no model fits the budget (params <= 5)" in none.output
