"""The report's cost figure (bench.reporting.report.costs)."""

from __future__ import annotations

import pandas as pd
from helpers.costs import SPEC, cost_body

from bench.results.costs import cost_table


def test_cost_figure_puts_each_model_at_its_size_and_joins_students_to_their_teacher(tmp_path):
    from bench.reporting.report.costs import plot_cost

    t = cost_table([cost_body("teacher", 1000, 10.0, []), cost_body("s1", 100, 2.0, [10.0])], SPEC)
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


def test_the_cost_table_says_which_model_was_trained_in_bf16():
    from bench.reporting.report.costs import cost_section

    bf16 = cost_body("s1", 100, 2.0, [10.0])
    bf16["training"] = {**bf16["training"], "origin": "store", "precision": "bf16"}  # type: ignore[dict-item]
    plain = cost_body("teacher", 1000, 10.0, [])
    plain["training"] = {**plain["training"], "origin": "store"}  # type: ignore[dict-item]
    frame = cost_section(cost_table([plain, bf16], SPEC)).tables[0].frame.set_index("model")
    assert (frame.at["s1", "train"], frame.at["teacher", "train"]) == ("2.0 s (bf16)", "10.0 s")
