"""Metrics (bench.results.metrics) on hand-built records: exact numbers, and the Wilson intervals every table carries."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers.report_fixtures import clean, fixed, min_norm, records

from bench.results.metrics import (
    clean_accuracy,
    common_eps,
    naive_vs_adaptive,
    robustness_metric,
    summarize,
    wilson,
    worst_case,
    worst_case_at,
)

CORRECT = [True] * 8 + [False] * 2  # 10 samples, 8 correct


def test_rates_use_the_right_denominators():
    rec = pd.concat([clean("m", CORRECT), fixed("m", "pgd", CORRECT, {0.3: [True] * 4 + [False] * 6})])
    row = summarize(rec).query("attack == 'pgd'").iloc[0]
    assert row["n_samples"] == 10
    assert row["clean_accuracy"] == pytest.approx(0.8)
    assert row["robust_accuracy"] == pytest.approx(0.4), "robust accuracy is over all samples"
    assert row["attack_success_rate"] == pytest.approx(0.5), "success rate is over the 8 correct samples"
    lo, hi = wilson(4, 10)
    assert (row["robust_accuracy_lo"], row["robust_accuracy_hi"]) == pytest.approx((lo, hi))


def test_min_norm_success_at_each_eps():
    dist = [0.5, 1.0, 1.5, 2.5, 3.0, 9.0, 0.2, math.inf, 1.0, 1.0]
    rec = pd.concat([clean("m", CORRECT), min_norm("m", "cw", CORRECT, dist, eps=(1.0, 2.0))])
    s = summarize(rec).query("attack == 'cw'").set_index("eps")
    # correct samples 0..7: norms 0.5 1 1.5 2.5 3 9 0.2 inf
    assert s.loc[1.0, "attack_success_rate"] == pytest.approx(3 / 8)
    assert s.loc[2.0, "attack_success_rate"] == pytest.approx(4 / 8)
    assert s.loc[math.inf, "attack_success_rate"] == pytest.approx(7 / 8)
    assert s.loc[math.inf, "median_l2"] == pytest.approx(1.5)


def test_worst_case_is_per_sample_not_the_best_attack():
    a = fixed("m", "a", CORRECT, {0.3: [True] * 3 + [False] * 7})
    b = fixed("m", "b", CORRECT, {0.3: [False] * 3 + [True] * 3 + [False] * 4})
    rec = pd.concat([clean("m", CORRECT), a, b])
    w = worst_case(rec).iloc[0]
    assert w["robust_accuracy"] == pytest.approx(0.2), "each attack alone leaves 0.5; together they break 6 of 8"
    assert summarize(rec).query("attack == 'a'")["robust_accuracy"].iloc[0] == pytest.approx(0.5)


def test_worst_case_counts_smaller_budgets_and_min_norm_norms():
    f = fixed("m", "pgd", CORRECT, {0.1: [True] + [False] * 9, 0.3: [False] * 10})
    mn = min_norm("m", "cw", CORRECT, [9.0, 0.2, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0], norm="linf")
    rec = pd.concat([clean("m", CORRECT), f, mn])
    w = worst_case(rec).set_index("eps")
    assert w.loc[0.3, "robust_accuracy"] == pytest.approx(0.6), "broken at 0.1 means broken at 0.3; cw's 0.2 counts at 0.3"
    assert w.loc[0.1, "robust_accuracy"] == pytest.approx(0.7)


def test_naive_vs_adaptive_gap():
    naive = fixed("m", "pgd", CORRECT, {0.3: [True] * 2 + [False] * 8})
    adaptive = fixed("m", "pgdm", CORRECT, {0.3: [True] * 8 + [False] * 2}, tag="adaptive")
    transfer = fixed("m", "tr", CORRECT, {0.3: [True] * 8 + [False] * 2}, tag="transfer", source="b")
    nva = naive_vs_adaptive(pd.concat([clean("m", CORRECT), naive, adaptive, transfer])).iloc[0]
    assert (nva["naive_robust_accuracy"], nva["adaptive_robust_accuracy"], nva["gap"]) == pytest.approx((0.6, 0.0, 0.6))


def test_clean_accuracy_and_papernot_robustness():
    dist = [0.5, 1.0, 1.5, math.inf, 1.0, 1.0, 1.0, 1.0, 7.0, 7.0]
    rec = pd.concat([clean("m", CORRECT), min_norm("m", "cw", CORRECT, dist)])
    c = clean_accuracy(rec).iloc[0]
    assert (c["n_samples"], c["clean_accuracy"]) == (10, pytest.approx(0.8))
    r = robustness_metric(rec).iloc[0]
    assert (r["n_correct"], r["found"]) == (8, 7)
    assert r["mean_min_norm"] == pytest.approx((0.5 + 1.0 + 1.5 + 4 * 1.0) / 7)


@pytest.mark.parametrize("k,n,lo,hi", [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (81, 100, 0.7222, 0.8749)])
def test_wilson(k, n, lo, hi):
    assert wilson(k, n) == pytest.approx((lo, hi), abs=1e-4)


def test_common_eps_prefers_finite_budgets():
    assert common_eps([{0.1, 0.3, math.inf}, {0.1, math.inf}]) == 0.1
    assert common_eps([{math.inf}, {math.inf}]) == math.inf
    assert common_eps([{math.inf}, {math.inf}], finite_only=True) is None
    assert common_eps([{0.1}, {0.2}]) is None
    assert common_eps([]) is None


def test_common_eps_matches_after_rounding_and_returns_an_input_value():
    # 8/255 read back from a CSV with 9 significant digits is not the same float as 8/255 computed.
    assert common_eps([{8 / 255, 0.1}, {float(f"{8 / 255:.9g}")}]) == 8 / 255


def test_worst_case_at_counts_robust_correct_and_all_samples():
    # Sample 0 is wrong before any attack; PGD breaks 1 from eps 0.1; C&W (Linf) breaks 2 at distance 0.2; 3 survives.
    r = records(
        fixed("m", "pgd", [False, True, True, True], {0.1: [False, True, False, False], 0.3: [False, True, False, False]}),
        min_norm("m", "cw", [False, True, True, True], [0.0, 0.5, 0.2, math.inf], norm="linf"),
    )
    assert worst_case_at(r, 0.1) == (2, 3, 4)
    assert worst_case_at(r, 0.3) == (1, 3, 4)


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 2, 0.0945, 0.9055),
        (80, 100, 0.7111, 0.8666),
    ],
)
def test_wilson_matches_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-4)
    assert got[1] == pytest.approx(hi, abs=1e-4)


def test_wilson_of_nothing_is_nan():
    assert all(math.isnan(v) for v in wilson(0, 0))
