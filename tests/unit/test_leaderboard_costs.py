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
