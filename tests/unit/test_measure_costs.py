"""What a model costs: FLOPs against a hand count, latency from real timed passes, sizes, training totals; the width family."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import torch
from torch import nn

from bench.pipeline.cells.keys import architecture_classes
from bench.pipeline.measure import costs
from bench.pipeline.models.networks import (
    Architecture,
    PapernotMnist,
    PapernotMnistHalf,
    PapernotMnistQuarter,
    PapernotStack,
    ScaledPapernotMnist,
    build_model,
)
from bench.pipeline.models.store import ModelStore
from bench.reporting.leaderboard.costs import CostOptions, add_costs, sort_by_cost, within_cost_budget
from bench.results.costs import accuracy_vs_cost, cost_table, run_training_seconds

MNIST = (1, 28, 28)


def test_flops_of_a_linear_model_match_a_hand_count():
    # One sample through Linear(64 -> 10): 64 * 10 multiply-adds, 2 FLOPs each. The bias is not a matrix product.
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    assert costs.flops_per_sample(model, torch.zeros(5, 1, 8, 8)) == 2 * 64 * 10
    # Two layers with a ReLU between: only the two matrix products count.
    mlp = build_model("tiny-mlp", (1, 8, 8), 10)
    assert costs.flops_per_sample(mlp, torch.zeros(3, 1, 8, 8)) == 2 * (64 * 32 + 32 * 10)
    assert mlp.training, "the model's mode is restored"


def test_flops_of_a_convolution_match_a_hand_count():
    # Conv2d(1 -> 4, 3x3) on 8x8 gives 4 x 6 x 6 outputs, each 9 multiply-adds.
    conv = nn.Conv2d(1, 4, 3)
    assert costs.flops_per_sample(conv, torch.zeros(2, 1, 8, 8)) == 2 * 4 * 6 * 6 * 9


class Counting(nn.Module):
    """Records the batch size of every forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(4, 2)
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(x))
        return self.net(x)


def test_latency_is_measured_by_timed_forward_passes_at_batch_1_and_a_large_batch():
    model = Counting()
    settings = costs.LatencySettings(large_batch=32, warmup=2, repeats_small=7, repeats_large=3)
    out = costs.latency(model, torch.rand(10, 4), torch.device("cpu"), settings)
    # Every pass ran: warm-up and timed, at batch 1, then at the large batch (tiled from 10 inputs up to 32).
    assert model.batches == [1] * (2 + 7) + [32] * (2 + 3)
    assert out["large_batch"] == 32 and (out["repeats_batch1"], out["repeats_large"]) == (7, 3)
    assert out["threads"] == torch.get_num_threads()
    assert out["latency_batch1_ms"] > 0 and out["latency_large_ms"] > 0
    assert out["latency_large_per_sample_ms"] == pytest.approx(out["latency_large_ms"] / 32)


def test_checkpoint_bytes_are_the_bytes_the_model_store_writes(tmp_path):
    model = build_model("tiny-mlp", (1, 8, 8), 10)
    store = ModelStore(tmp_path)
    store.save("k", model.state_dict(), {})
    assert costs.state_dict_bytes(model) == store.paths("k")[0].stat().st_size
    assert costs.parameter_count(model) == 64 * 32 + 32 + 32 * 10 + 10


def test_the_width_family_shrinks_the_papernot_net_and_leaves_it_as_it_was():
    full = costs.parameter_count(build_model("papernot-mnist", MNIST, 10))
    half = costs.parameter_count(build_model("papernot-mnist-half", MNIST, 10))
    quarter = costs.parameter_count(build_model("papernot-mnist-quarter", MNIST, 10))
    assert full == 312_202 and quarter < half <= full / 2
    assert (PapernotMnistHalf.width, PapernotMnistQuarter.width) == (0.5, 0.25)
    # At width 1 the family is the Papernot net itself: the same layers drawn in the same order give the same weights.
    torch.manual_seed(0)
    a = PapernotMnist(MNIST, 10).state_dict()
    torch.manual_seed(0)
    b = ScaledPapernotMnist(MNIST, 10).state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    # The net's cache key digests its class and the builder the whole family shares, so editing the builder retrains them all.
    assert architecture_classes("papernot-mnist") == [PapernotMnist, Architecture, PapernotStack]
    assert PapernotStack in architecture_classes("papernot-mnist-half") and PapernotStack in architecture_classes("papernot-cifar")


def _body(model: str, params: int, own: float | None, teachers: list[float | None], epochs: int = 5) -> dict[str, object]:
    chain = [{"id": f"t{i}", "train_seconds": s, "epochs": epochs} for i, s in enumerate(teachers)]
    return {
        "model": model,
        "arch": "tiny-mlp",
        "params": params,
        "checkpoint_bytes": 4 * params,
        "flops_per_sample": 2 * params,
        "latency_batch1_ms": 0.5,
        "latency_large_ms": 8.0,
        "large_batch": 256,
        "latency_large_per_sample_ms": 8.0 / 256,
        "threads": 2,
        "device": "cpu",
        "training": {"id": model, "train_seconds": own, "epochs": epochs if own is not None else None},
        "teachers": chain,
        "measured": {"computed_at": "2026-01-01T00:00:00+00:00"},
    }


SPEC = {
    "models": [
        {"id": "teacher", "kind": "teacher", "train": {"temperature": 100}},
        {"id": "s1", "kind": "student", "teacher": "teacher", "train": {"temperature": 1}},
        {"id": "s100", "kind": "student", "teacher": "teacher", "train": {"temperature": 100}},
        {"id": "ckpt", "kind": "baseline", "train": {"temperature": 1}},
    ]
}


def test_a_students_training_cost_includes_its_teacher_once_and_the_run_counts_each_model_once():
    bodies = [
        _body("s100", 100, 3.0, [10.0]),
        _body("teacher", 1000, 10.0, []),
        _body("s1", 100, 2.0, [10.0]),
    ]
    t = cost_table(bodies, SPEC)
    assert list(t["model"]) == ["teacher", "s1", "s100"], "in the spec's order"
    row = t.set_index("model")
    assert (row.at["s1", "train_seconds"], row.at["s1", "total_train_seconds"], row.at["s1", "total_epochs"]) == (2.0, 12.0, 10)
    assert row.at["teacher", "total_train_seconds"] == 10.0
    assert (row.at["s100", "kind"], row.at["s100", "temperature"], row.at["s100", "teacher"]) == ("student", 100.0, "teacher")
    # Two students share the teacher: the run trained it once.
    assert run_training_seconds(t) == 10.0 + 2.0 + 3.0


def test_an_unknown_training_cost_is_nan_not_zero():
    t = cost_table([_body("ckpt", 10, None, [])], SPEC)
    assert math.isnan(t["train_seconds"].iloc[0]) and math.isnan(t["total_train_seconds"].iloc[0])
    assert math.isnan(run_training_seconds(t))


def test_accuracy_vs_cost_takes_naive_and_adaptive_worst_cases_at_the_eps_every_model_shares():
    t = cost_table([_body("teacher", 1000, 10.0, []), _body("s1", 100, 2.0, [10.0])], SPEC)
    clean = pd.DataFrame({"model": ["teacher", "s1"], "clean_accuracy": [0.99, 0.98]})
    nva = pd.DataFrame(
        {
            "model": ["teacher", "teacher", "teacher", "s1", "s1", "s1"],
            "norm": ["linf", "linf", "linf", "linf", "linf", "l2"],
            "eps": [0.05, 0.1, 0.3, 0.1, 0.3, 2.0],
            "naive_robust_accuracy": [0.9, 0.8, 0.7, 0.95, 0.9, 0.5],
            "adaptive_robust_accuracy": [0.6, 0.5, 0.1, 0.4, 0.02, 0.3],
        }
    )
    frame, norm, eps = accuracy_vs_cost(t, clean, nva)
    assert (norm, eps) == ("linf", [0.1, 0.3]), "0.05 is not shared by s1; L2 is not the chosen norm"
    assert list(frame["adaptive@0.3"]) == [0.1, 0.02] and list(frame["naive@0.3"]) == [0.7, 0.9]
    assert list(frame["adaptive@0.1"]) == [0.5, 0.4] and list(frame["clean_accuracy"]) == [0.99, 0.98]


def test_leaderboard_cost_columns_budgets_and_sorting():
    t = cost_table([_body("teacher", 1000, 10.0, []), _body("s1", 100, 2.0, [10.0]), _body("s100", 300, 3.0, [10.0])], SPEC)
    rows = pd.DataFrame(
        {
            "model": ["teacher", "s1", "s100", "other"],
            "run_dir": ["r", "r", "r", "elsewhere"],
            "rank": [1, 2, 3, 4],
            "unreliable": [False, False, True, False],
        }
    )
    joined = add_costs(rows, {"r": t})
    assert list(joined["params"].fillna(-1)) == [1000, 100, 300, -1]
    assert list(joined["train_seconds"].fillna(-1)) == [10.0, 12.0, 13.0, -1], "a student's training includes its teacher's"
    budget = within_cost_budget(joined, CostOptions(max_params=500))
    assert list(budget["model"]) == ["s1", "s100"], "an unmeasured model fits no budget"
    ordered = sort_by_cost(joined, "params")
    assert list(ordered["model"]) == ["s1", "teacher", "other", "s100"], "smallest first, unknown after, unreliable last"
    assert list(ordered["rank"]) == [2, 1, 4, 3], "sorting keeps the ranks"


def test_cost_file_round_trip_through_the_run_folder(tmp_path):
    from bench.results.costs import read_costs

    run = tmp_path / "run"
    (run / "records").mkdir(parents=True)
    (run / "costs").mkdir()
    for name, body in [("teacher.a.json", _body("teacher", 1000, 10.0, [])), ("s1.b.json", _body("s1", 100, 2.0, [10.0]))]:
        (run / "costs" / name).write_text(json.dumps(body))
    (run / "costs" / "old.c.json").write_text(json.dumps(_body("old", 5, 1.0, [])))
    manifest = {"spec": SPEC, "costs": {"teacher": {"file": "costs/teacher.a.json"}, "s1": {"file": "costs/s1.b.json"}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert list(read_costs(run)["model"]) == ["teacher", "s1"], "only the files the last run names"


def test_cost_figure_puts_each_model_at_its_size_and_joins_students_to_their_teacher(tmp_path):
    from bench.reporting.report.costs import plot_cost

    t = cost_table([_body("teacher", 1000, 10.0, []), _body("s1", 100, 2.0, [10.0])], SPEC)
    clean = pd.DataFrame({"model": ["teacher", "s1"], "clean_accuracy": [0.99, 0.98]})
    nva = pd.DataFrame(
        {
            "model": ["teacher", "s1"],
            "norm": ["linf"] * 2,
            "eps": [0.3] * 2,
            "naive_robust_accuracy": [0.9, 0.95],
            "adaptive_robust_accuracy": [0.1, 0.0],
        }
    )
    plot = plot_cost(t, clean, nva, "s", tmp_path)
    assert plot is not None and plot.png.is_file()
    clean_panel, robust_panel = "clean accuracy (whole test split)", "worst case, L∞ eps 0.3"
    assert plot.series[f"{clean_panel}|s1"] == ([100.0], [98.0])
    assert plot.series[f"{clean_panel}|teacher -> s1"] == ([1000.0, 100.0], [99.0, 98.0])
    assert plot.series[f"{robust_panel}|s1"] == ([100.0], [0.0]), "filled: the adaptive worst case"
    assert plot_cost(t.iloc[0:0], clean, nva, "s", tmp_path) is None, "no cost files, no figure"
