"""The leaderboard's cost columns (bench.reporting.leaderboard.costs): joined per run, budgets, sorting by cost."""

from __future__ import annotations

import pandas as pd
from helpers.costs import SPEC, cost_body

from bench.reporting.leaderboard.costs import CostOptions, add_costs, sort_by_cost, within_cost_budget
from bench.results.costs import cost_table


def test_leaderboard_cost_columns_budgets_and_sorting():
    t = cost_table([cost_body("teacher", 1000, 10.0, []), cost_body("s1", 100, 2.0, [10.0]), cost_body("s100", 300, 3.0, [10.0])], SPEC)
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


def test_a_noisy_latency_is_marked_and_sorting_or_filtering_on_it_says_so():
    from bench.reporting.leaderboard.costs import display_columns, noisy_latency_warning

    busy = cost_body("s1", 100, 2.0, [10.0]) | {"noisy": True, "noisy_reason": "the load average was 2.0 per core"}
    t = cost_table([cost_body("teacher", 1000, 10.0, []), busy], SPEC)
    assert list(t["noisy"]) == [False, True] and t["noisy_reason"].iloc[1] == "the load average was 2.0 per core"
    rows = pd.DataFrame({"model": ["teacher", "s1"], "run_dir": ["r", "r"], "rank": [1, 2], "unreliable": [False, False]})
    joined = add_costs(rows, {"r": t})
    assert display_columns(joined)["latency b1"] == ["0.5 ms", "0.5 ms (noisy)"]
    assert noisy_latency_warning(joined, CostOptions(sort="params")) is None, "latency not used: nothing to say"
    assert noisy_latency_warning(joined, CostOptions(sort="latency")) == (
        "latency of s1 was measured on a busy machine (noisy), yet the leaderboard is sorted by it"
    )
    assert "filtered by it" in noisy_latency_warning(joined, CostOptions(max_latency_ms=1.0))
    old = cost_table([cost_body("teacher", 1000, 10.0, [])], SPEC)
    assert not old["noisy"].any(), "a measurement from before bench judged noise claims nothing"


def test_the_train_column_shows_wall_and_cpu_time_when_both_are_known():
    from bench.reporting.leaderboard.costs import display_columns

    student = cost_body("s1", 100, 546.0, [10.0], cpu=160.0)
    student["teachers"][0]["train_cpu_seconds"] = 19.0  # type: ignore[index]
    t = cost_table([cost_body("teacher", 1000, 10.0, [], cpu=19.0), student], SPEC)
    rows = pd.DataFrame({"model": ["teacher", "s1", "other"], "run_dir": ["r", "r", "x"], "rank": [1, 2, 3], "unreliable": [False] * 3})
    train = display_columns(add_costs(rows, {"r": t}))["train"]
    assert train == ["10 s (CPU 19 s)", "556 s (CPU 179 s)", "–"], "a student's wall and CPU time include its teacher's"


def test_the_train_column_says_bf16_for_a_model_trained_in_it():
    from bench.reporting.leaderboard.costs import display_columns

    student = cost_body("s1", 100, 5.0, [], cpu=9.0)
    student["training"] = {**student["training"], "origin": "store", "precision": "bf16"}  # type: ignore[dict-item]
    teacher = cost_body("teacher", 1000, 10.0, [])
    teacher["training"] = {**teacher["training"], "origin": "store"}  # type: ignore[dict-item]
    rows = pd.DataFrame({"model": ["teacher", "s1"], "run_dir": ["r", "r"], "rank": [1, 2], "unreliable": [False] * 2})
    joined = add_costs(rows, {"r": cost_table([teacher, student], SPEC)})
    assert list(joined["train_precision"]) == ["fp32", "bf16"]
    assert display_columns(joined)["train"] == ["10 s", "5 s (CPU 9 s, bf16)"]
