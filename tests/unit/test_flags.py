"""The grading rule (bench.results.flags): each check on crafted records, summaries and per-sample diagnostics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers.report_fixtures import clean, fixed, min_norm

from bench.results.metrics import naive_vs_adaptive, summarize
from bench.results.tables import run_checks

N = 20
ALL = [True] * N


def first(k: int) -> list[bool]:
    return [i < k for i in range(N)]


def flags_for(*frames: pd.DataFrame, diagnostics: pd.DataFrame | None = None) -> pd.DataFrame:
    records = pd.concat(frames, ignore_index=True)
    return run_checks(records, summarize(records), diagnostics)


def verdict(flags: pd.DataFrame, check: str, model: str = "m", attack: str | None = None) -> str:
    rows = flags[(flags["check"] == check) & (flags["model"] == model)]
    if attack is not None:
        rows = rows[rows["attack"] == attack]
    assert len(rows) == 1, rows
    return rows["verdict"].iloc[0]


def diag(model: str, onehot: int, zero: int, n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": model,
            "sample": range(n),
            "max_abs_logit": [1000.0] * onehot + [10.0] * (n - onehot),
            "logit_gap": [500.0] * onehot + [5.0] * (n - onehot),
            "softmax_onehot": [True] * onehot + [False] * (n - onehot),
            "grad_zero": [True] * zero + [False] * (n - zero),
            "grad_l1": [0.0] * zero + [1.0] * (n - zero),
        }
    )


@pytest.mark.parametrize("onehot,expected", [(0, "pass"), (2, "warn"), (10, "fail"), (20, "fail")])
def test_softmax_saturation(onehot, expected):
    flags = flags_for(clean("m", ALL), diagnostics=diag("m", onehot, 0))
    assert verdict(flags, "softmax-saturation") == expected
    row = flags[flags["check"] == "softmax-saturation"].iloc[0]
    assert row["value"] == pytest.approx(onehot / N)
    assert row["category"] == "masking"


@pytest.mark.parametrize("zero,expected", [(1, "pass"), (3, "warn"), (15, "fail")])
def test_zero_gradients(zero, expected):
    flags = flags_for(clean("m", ALL), diagnostics=diag("m", 0, zero))
    assert verdict(flags, "zero-gradients") == expected


@pytest.mark.parametrize("cosine,expected", [(1.0, "pass"), (0.95, "pass"), (0.7, "warn"), (0.3, "fail")])
def test_gradient_noise_grades_the_median_cosine_between_two_passes(cosine, expected):
    d = diag("m", 0, 2).assign(grad_cosine=[math.nan] * 2 + [cosine] * (N - 2))  # zero gradients have no direction
    flags = flags_for(clean("m", ALL), diagnostics=d)
    assert verdict(flags, "gradient-noise") == expected
    row = flags[flags["check"] == "gradient-noise"].iloc[0]
    assert row["category"] == "masking" and row["value"] == pytest.approx(cosine)
    assert ("EOT" in row["message"]) == (expected != "pass"), "a noisy gradient says how to attack it"


def test_gradient_noise_is_silent_without_the_column_or_a_gradient():
    assert "gradient-noise" not in set(flags_for(clean("m", ALL), diagnostics=diag("m", 0, 0))["check"])
    zero = diag("m", 0, N).assign(grad_cosine=math.nan)
    assert "gradient-noise" not in set(flags_for(clean("m", ALL), diagnostics=zero)["check"])


def test_iterative_weaker_than_single_step():
    fgsm = fixed("m", "fgsm", ALL, {0.3: first(15)}, use="torchattacks.fgsm")
    good = fixed("m", "pgd", ALL, {0.3: first(18)})
    weak = fixed("m", "pgd-weak", ALL, {0.3: first(5)})
    flags = flags_for(clean("m", ALL), fgsm, good, weak)
    assert verdict(flags, "iterative-weaker", attack="pgd") == "pass"
    assert verdict(flags, "iterative-weaker", attack="pgd-weak") == "fail"
    assert flags[(flags["attack"] == "pgd-weak") & (flags["check"] == "iterative-weaker")]["value"].iloc[0] == pytest.approx(0.5)


def test_robust_accuracy_rising_with_eps():
    ok = fixed("m", "pgd", ALL, {0.1: first(5), 0.2: first(10), 0.3: first(20)})
    bad = fixed("m", "pgd2", ALL, {0.1: first(10), 0.2: first(5), 0.3: first(20)})
    flags = flags_for(clean("m", ALL), ok, bad)
    assert verdict(flags, "non-monotone-eps", attack="pgd") == "pass"
    assert verdict(flags, "non-monotone-eps", attack="pgd2") == "warn"


@pytest.mark.parametrize("found,expected", [(20, "pass"), (19, "warn"), (10, "fail")])
def test_unbounded_attack_must_reach_100_percent(found, expected):
    dist = [1.0] * found + [math.inf] * (N - found)
    flags = flags_for(clean("m", ALL), min_norm("m", "cw", ALL, dist))
    assert verdict(flags, "unbounded-incomplete", attack="cw") == expected


def test_a_weak_unbounded_attack_beside_a_complete_one_only_warns():
    # torchattacks' fixed-c CW next to a C&W that breaks everything: the worst case is complete, the model reliable.
    complete = min_norm("m", "cw", ALL, [1.0] * N)
    weak = min_norm("m", "ta-cw", ALL, [1.0] * 4 + [math.inf] * (N - 4), use="torchattacks.cw")
    flags = flags_for(clean("m", ALL), complete, weak)
    assert verdict(flags, "unbounded-incomplete", attack="cw") == "pass"
    assert verdict(flags, "unbounded-incomplete", attack="ta-cw") == "warn"
    message = flags[(flags["attack"] == "ta-cw") & (flags["check"] == "unbounded-incomplete")]["message"].iloc[0]
    assert message.endswith("cw reaches 100.0% on this model and norm, so the worst case is complete")
    # Alone, the weak one fails: nothing covers the samples it left.
    alone = flags_for(clean("m", ALL), weak)
    assert verdict(alone, "unbounded-incomplete", attack="ta-cw") == "fail"


def test_large_linf_budget_must_reach_100_percent():
    flags = flags_for(clean("m", ALL), fixed("m", "pgd", ALL, {0.5: first(12)}))
    assert verdict(flags, "unbounded-incomplete", attack="pgd") == "fail"


def test_transfer_beating_whitebox_is_masking():
    white = fixed("m", "pgd", ALL, {0.3: first(2)})
    transfer = fixed("m", "transfer", ALL, {0.3: first(18)}, tag="transfer", source="base")
    flags = flags_for(clean("m", ALL), white, transfer)
    assert verdict(flags, "transfer-beats-whitebox", attack="transfer") == "fail"
    row = flags[flags["check"] == "transfer-beats-whitebox"].iloc[0]
    assert row["value"] == pytest.approx(16 / 20)
    assert row["message"] == "16 of 20 samples were broken by transfer but by no white-box attack at linf eps 0.3"
    strong = fixed("m", "pgd", ALL, {0.3: first(19)})
    assert verdict(flags_for(clean("m", ALL), strong, transfer), "transfer-beats-whitebox", attack="transfer") == "pass"


def test_gradient_free_beating_whitebox_is_masking():
    white = fixed("m", "pgd", ALL, {0.3: first(17)})
    square = fixed("m", "square", ALL, {0.3: first(18)}, use="torchattacks.square", tag="adaptive")
    flags = flags_for(clean("m", ALL), white, square)
    assert verdict(flags, "transfer-beats-whitebox", attack="square") == "warn"


def test_whitebox_is_judged_per_example_against_every_whitebox_attack():
    # FGSM alone is weaker than Square, but PGD breaks everything Square breaks: no sample escapes white-box.
    fgsm = fixed("m", "fgsm", ALL, {0.3: first(5)}, use="torchattacks.fgsm")
    pgd = fixed("m", "pgd", ALL, {0.3: first(20)})
    square = fixed("m", "square", ALL, {0.3: first(19)}, use="torchattacks.square", tag="adaptive")
    assert verdict(flags_for(clean("m", ALL), fgsm, pgd, square), "transfer-beats-whitebox", attack="square") == "pass"
    # Per example, not per rate: white-box and Square break the same number, but different samples.
    other = fixed("m", "square", ALL, {0.3: [i >= 10 for i in range(N)]}, use="torchattacks.square", tag="adaptive")
    half = fixed("m", "pgd", ALL, {0.3: first(10)})
    assert verdict(flags_for(clean("m", ALL), half, other), "transfer-beats-whitebox", attack="square") == "fail"


def test_an_undefended_model_passes_every_masking_check():
    # The review's case: FGSM leaves 13 of 100 robust, PGD 0, Square 1, transfer from elsewhere 30.
    n = 100
    ok, broken = [True] * n, lambda k: [i < k for i in range(n)]  # noqa: E731
    frames = [
        clean("m", ok),
        fixed("m", "fgsm", ok, {0.1: broken(40), 0.3: broken(87)}, use="torchattacks.fgsm"),
        fixed("m", "pgd", ok, {0.1: broken(60), 0.3: broken(100)}),
        fixed("m", "square", ok, {0.3: broken(99)}, use="torchattacks.square", tag="adaptive"),
        fixed("m", "transfer", ok, {0.3: broken(70)}, tag="transfer", source="base"),
        fixed("m", "pgdm", ok, {0.1: broken(61), 0.3: broken(100)}, use="bench.pgd_margin", tag="adaptive"),
    ]
    flags = flags_for(*frames, diagnostics=diag("m", onehot=0, zero=0, n=n))
    masking = flags[flags["category"] == "masking"]
    assert set(masking["check"]) == {"softmax-saturation", "zero-gradients", "transfer-beats-whitebox", "naive-adaptive-gap"}
    assert set(masking["verdict"]) == {"pass"}, masking[["check", "verdict", "message"]]
    assert verdict(flags, "gradient-masking") == "pass"


@pytest.mark.parametrize("naive_broken,expected", [(20, "pass"), (18, "warn"), (4, "fail")])
def test_naive_adaptive_gap(naive_broken, expected):
    naive = fixed("m", "pgd", ALL, {0.3: first(naive_broken)})
    adaptive = fixed("m", "pgd-margin", ALL, {0.3: first(20)}, use="bench.pgd_margin", tag="adaptive")
    flags = flags_for(clean("m", ALL), naive, adaptive)
    assert verdict(flags, "naive-adaptive-gap") == expected


def test_no_gap_when_the_naive_side_is_single_step_only():
    # FGSM alone against margin PGD measures FGSM's weakness, not masking: no gap is reported at all.
    fgsm = fixed("m", "fgsm", ALL, {0.3: first(13)}, use="torchattacks.fgsm")
    adaptive = fixed("m", "pgd-margin", ALL, {0.3: first(20)}, use="bench.pgd_margin", tag="adaptive")
    flags = flags_for(clean("m", ALL), fgsm, adaptive)
    assert not len(flags[flags["check"] == "naive-adaptive-gap"])


def test_gap_is_taken_on_the_samples_both_groups_attacked():
    # Naive PGD ran on 20 samples and broke the first 10; adaptive ran on the first 10 only and broke them all.
    naive = fixed("m", "pgd", ALL, {0.3: first(10)})
    adaptive = fixed("m", "pgd-margin", ALL[:10], {0.3: [True] * 10}, use="bench.pgd_margin", tag="adaptive")
    nva = naive_vs_adaptive(pd.concat([clean("m", ALL), naive, adaptive], ignore_index=True))
    # On the 10 common samples both groups broke everything: no gap (20 vs 10 samples would have shown +50 pts).
    assert nva[["n_samples", "naive_robust_accuracy", "adaptive_robust_accuracy", "gap"]].values.tolist() == [[10, 0.0, 0.0, 0.0]]


def test_a_weak_minimum_norm_attack_is_not_a_naive_vs_adaptive_gap():
    # torchattacks CW (one fixed c) breaks 4 of 20 unbounded, bench C&W all: not a masking gap, so no L2 row.
    weak = min_norm("m", "ta-cw", ALL, [1.0] * 4 + [math.inf] * 16, use="torchattacks.cw", tag="naive")
    strong = min_norm("m", "cw", ALL, [1.0] * 20)
    assert not len(naive_vs_adaptive(pd.concat([clean("m", ALL), weak, strong], ignore_index=True)))


def test_model_verdict_is_the_worst_masking_check_and_ignores_sanity():
    weak = fixed("m", "pgd-weak", ALL, {0.3: first(5)})  # a sanity failure only
    fgsm = fixed("m", "fgsm", ALL, {0.3: first(15)}, use="torchattacks.fgsm")
    flags = flags_for(clean("m", ALL), fgsm, weak, diagnostics=diag("m", 3, 0))
    assert verdict(flags, "iterative-weaker", attack="pgd-weak") == "fail"
    assert verdict(flags, "gradient-masking") == "warn"
    assert "softmax-saturation" in flags[flags["check"] == "gradient-masking"]["message"].iloc[0]


def test_checks_survive_runs_without_fixed_budget_or_pairs():
    flags = flags_for(clean("m", ALL), min_norm("m", "cw", ALL, [1.0] * N))
    assert set(flags["check"]) == {"unbounded-incomplete"}


def test_partial_coverage_warns_when_a_subset_attack_breaks_what_others_missed():
    from bench.results.flags import check_partial_coverage

    def rows(attack, samples, broken):
        return pd.DataFrame(
            dict(
                model="m",
                attack=attack,
                use="x",
                source="",
                kind="fixed_eps",
                norm="linf",
                eps=0.3,
                sample=samples,
                label=0,
                clean_pred=0,
                adv_pred=np.where(broken, 1, 0),
                linf=0.3,
            )
        )

    pgd = rows("pgd", np.arange(100), np.arange(100) < 10)  # breaks 0-9 of 100
    strong = rows("aa", np.arange(20), np.arange(20) < 15)  # on its 20: breaks 0-14, 5 that pgd missed
    weak = rows("aa", np.arange(20), np.arange(20) < 10)  # breaks only what pgd broke
    (row,) = check_partial_coverage(pd.concat([pgd, strong]))
    assert (row["attack"], row["verdict"], row["value"]) == ("aa", "warn", 0.25)
    assert "85.0% over all 100 samples, 25.0% on its 20" in row["message"]
    assert [r["verdict"] for r in check_partial_coverage(pd.concat([pgd, weak]))] == ["pass"]
    assert list(check_partial_coverage(pgd)) == [], "an attack on every sample has nothing to warn about"
    square = strong.assign(use="aa.square")
    assert list(check_partial_coverage(pd.concat([pgd, square]))) == [], "a gradient-free attack is transfer-beats-whitebox's to judge"
