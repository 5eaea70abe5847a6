"""Sanity and gradient-masking verdicts: pure functions of records, summary and diagnostics.

Each check yields rows of ``FLAG_COLUMNS`` with a verdict of pass, warn or
fail. ``category`` is ``masking`` for checks whose failure means the model's
robustness numbers are likely an illusion, and ``sanity`` for checks on the
evaluation itself. Every check, its thresholds and what to do about it are
documented in docs/flags.md; the ``check`` names here are its headings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from bench.results.families import family_of
from bench.results.metrics import broken_at, covers, naive_vs_adaptive, worst_case_at
from bench.results.records import CLEAN, WORST

FLAG_COLUMNS = ["model", "attack", "check", "category", "verdict", "value", "threshold", "message"]
DOC = "docs/flags.md"


def flag_row(
    model: str, attack: str, check: str, category: str, verdict: str, value: float, threshold: str, message: str
) -> dict[str, object]:
    """One row of ``FLAG_COLUMNS``."""
    return dict(zip(FLAG_COLUMNS, [model, attack, check, category, verdict, value, threshold, message], strict=True))


def grade(value: float, warn: float, fail: float, higher_is_bad: bool = True) -> str:
    """``pass``, ``warn`` or ``fail``: the grading rule of every check with a warn and a fail threshold.

    One edge convention (docs/flags.md's "at >="): a value *reaches* a threshold when it is
    ``>=`` it. With ``higher_is_bad`` a value that reaches ``fail`` fails and one that reaches
    ``warn`` warns; otherwise (a rate that must be high) a value that does not reach ``fail``
    fails and one that does not reach ``warn`` warns. NaN (nothing measured) passes. A check
    that only warns passes ``fail=math.inf``.
    """
    if math.isnan(value):
        return "pass"
    if higher_is_bad:
        return "fail" if value >= fail else "warn" if value >= warn else "pass"
    return "fail" if value < fail else "warn" if value < warn else "pass"


# Fractions of inputs; see docs/flags.md for why these values.
SATURATION_WARN, SATURATION_FAIL = 0.10, 0.50
ZERO_GRAD_WARN, ZERO_GRAD_FAIL = 0.10, 0.50
# Median cosine between two passes' input gradients (1 for a deterministic model).
GRAD_COSINE_WARN, GRAD_COSINE_FAIL = 0.9, 0.5
# Differences in robust accuracy (absolute, on [0,1]).
ITERATIVE_TOL = 0.02
MONOTONE_TOL = 0.02
TRANSFER_WARN, TRANSFER_FAIL = 0.02, 0.10
GAP_WARN, GAP_FAIL = 0.05, 0.20
# Share of a subset attack's samples that only it broke; a warning only (see docs/flags.md).
COVERAGE_WARN = 0.05
# Success rate an unbounded attack must reach.
UNBOUNDED_WARN, UNBOUNDED_FAIL = 0.99, 0.90
LARGE_LINF = 0.5


def _role(use: object) -> str:
    return family_of(use).role if isinstance(use, str) else "other"


def _gradient_free(use: object) -> bool:
    return isinstance(use, str) and (family_of(use).role == "gradient-free" or family_of(use).gradient_free)


def _not_white_box(frame: pd.DataFrame) -> pd.Series:
    """Per row: a transfer attack (crafted on another model) or a gradient-free one."""
    return (frame["source"].fillna("") != "") | frame["use"].map(_gradient_free).astype(bool)


def check_saturation(diag: pd.DataFrame) -> Iterator[dict[str, object]]:
    """softmax-saturation: fraction of inputs whose float32 softmax is exactly one-hot."""
    for model, g in diag.groupby("model", sort=False):
        frac = float(g["softmax_onehot"].mean())
        verdict = grade(frac, SATURATION_WARN, SATURATION_FAIL)
        msg = (
            f"{frac:.0%} of inputs have an exactly one-hot softmax; |logit| median {g['max_abs_logit'].median():.3g}, "
            f"max {g['max_abs_logit'].max():.3g}; top-2 gap median {g['logit_gap'].median():.3g}"
        )
        yield flag_row(
            model, "", "softmax-saturation", "masking", verdict, frac, f"warn>={SATURATION_WARN:g}, fail>={SATURATION_FAIL:g}", msg
        )


def check_zero_gradients(diag: pd.DataFrame) -> Iterator[dict[str, object]]:
    """zero-gradients: fraction of inputs whose cross-entropy input gradient is exactly zero."""
    for model, g in diag.groupby("model", sort=False):
        frac = float(g["grad_zero"].mean())
        verdict = grade(frac, ZERO_GRAD_WARN, ZERO_GRAD_FAIL)
        msg = f"{frac:.0%} of inputs have an exactly zero cross-entropy gradient (median L1 {g['grad_l1'].median():.3g})"
        yield flag_row(model, "", "zero-gradients", "masking", verdict, frac, f"warn>={ZERO_GRAD_WARN:g}, fail>={ZERO_GRAD_FAIL:g}", msg)


def check_gradient_noise(diag: pd.DataFrame) -> Iterator[dict[str, object]]:
    """gradient-noise: the median cosine between the input gradients of two passes (stochastic gradients, Athalye et al. 2018).

    A deterministic model's two gradients are the same (cosine 1); a randomized defence's
    point in directions that depend on the draw, so an attack that follows one draw per
    step wanders. Inputs whose gradient is zero are left to zero-gradients.
    """
    if "grad_cosine" not in diag:
        return  # diagnostics written before this check existed
    for model, g in diag.groupby("model", sort=False):
        cos = g["grad_cosine"].astype(float).dropna()
        if not len(cos):
            continue
        median = float(cos.median())
        # Graded as 1 - cosine, so that a higher value is worse, as in every other check.
        verdict = grade(1 - median, 1 - GRAD_COSINE_WARN, 1 - GRAD_COSINE_FAIL)
        msg = (
            f"the input gradients of two passes have median cosine {median:.2f} (10th percentile {cos.quantile(0.1):.2f}): "
            "each draw points elsewhere, so attack with EOT (view: {eot: N})"
            if verdict != "pass"
            else f"the input gradients of two passes have median cosine {median:.2f}"
        )
        limits = f"warn<{GRAD_COSINE_WARN:g}, fail<{GRAD_COSINE_FAIL:g} (median cosine)"
        yield flag_row(model, "", "gradient-noise", "masking", verdict, median, limits, msg)


def _bounded(frame: pd.DataFrame) -> pd.Series:
    # astype(bool): on an empty frame .map gives an object Series, which pandas would read as column labels.
    return frame["eps"].astype(float).map(math.isfinite).astype(bool)


def _attack_rows(summary: pd.DataFrame) -> pd.DataFrame:
    has_use = summary["use"].map(lambda u: isinstance(u, str) and u != "").astype(bool)
    return summary[(summary["attack"] != WORST) & has_use]


def _fixed(summary: pd.DataFrame) -> pd.DataFrame:
    s = _attack_rows(summary)
    return s[_bounded(s)]


def check_iterative_vs_single_step(summary: pd.DataFrame) -> Iterator[dict[str, object]]:
    """iterative-weaker: an iterative attack leaves more robust accuracy than its single-step counterpart."""
    s = _fixed(summary)
    s = s[s["source"].fillna("") == ""]
    for (model, norm, eps, _view), g in s.groupby(["model", "norm", "eps", "view"], sort=False):
        single = g[g["use"].map(_role) == "single-step"]
        if not len(single):
            continue
        best_single = float(single["robust_accuracy"].min())
        for r in g[g["use"].map(_role) == "iterative"].itertuples():
            diff = float(r.robust_accuracy) - best_single
            verdict = "fail" if diff > ITERATIVE_TOL else "pass"
            yield flag_row(
                model,
                r.attack,
                "iterative-weaker",
                "sanity",
                verdict,
                diff,
                f"fail>{ITERATIVE_TOL:g}",
                f"{r.attack} leaves {r.robust_accuracy:.1%} robust at {norm} eps {eps:g}, single-step {best_single:.1%}",
            )


def check_monotone_eps(summary: pd.DataFrame) -> Iterator[dict[str, object]]:
    """non-monotone-eps: robust accuracy rises with eps for one attack."""
    s = _fixed(summary)
    for (model, attack), g in s.groupby(["model", "attack"], sort=False):
        acc = g.sort_values("eps")["robust_accuracy"].to_numpy()
        if len(acc) < 2:
            continue
        rise = float(max(acc[i + 1] - acc[i] for i in range(len(acc) - 1)))
        verdict = "warn" if rise > MONOTONE_TOL else "pass"
        yield flag_row(
            model,
            attack,
            "non-monotone-eps",
            "sanity",
            verdict,
            max(rise, 0.0),
            f"warn>{MONOTONE_TOL:g}",
            f"robust accuracy rises by up to {max(rise, 0):.1%} between consecutive eps",
        )


def check_unbounded(summary: pd.DataFrame) -> Iterator[dict[str, object]]:
    """unbounded-incomplete: an unbounded (or Linf >= 0.5) attack does not reach ~100% success.

    It fails only when no attack of that kind on the model and norm reaches ~100%: then
    the robust accuracy left over is the attacks' failure. One weak attack next to a
    complete one (torchattacks' fixed-c CW beside bench's C&W) is a warning about that
    attack, not about the evaluation, whose worst case is per sample over all of them.
    """
    rows = []
    for r in _attack_rows(summary).itertuples():
        unbounded = math.isinf(r.eps) and family_of(r.use).reaches_all
        large = (not math.isinf(r.eps)) and r.norm == "linf" and r.eps >= LARGE_LINF
        if (unbounded or large) and not (isinstance(r.source, str) and r.source):
            rows.append((r, unbounded))
    best: dict[tuple[str, str, bool], tuple[float, str]] = {}
    for r, unbounded in rows:
        group = (r.model, r.norm, unbounded)
        best[group] = max(best.get(group, (-1.0, "")), (float(r.attack_success_rate), str(r.attack)))
    for r, unbounded in rows:
        rate = float(r.attack_success_rate)
        verdict = grade(rate, UNBOUNDED_WARN, UNBOUNDED_FAIL, higher_is_bad=False)
        top, top_attack = best[(r.model, r.norm, unbounded)]
        message = f"{r.attack} succeeds on {rate:.1%} with {'no budget' if unbounded else f'eps {r.eps:g}'}; it should reach ~100%"
        if verdict != "pass" and grade(top, UNBOUNDED_WARN, UNBOUNDED_FAIL, higher_is_bad=False) == "pass":
            verdict = "warn"
            message += f"; {top_attack} reaches {top:.1%} on this model and norm, so the worst case is complete"
        threshold = f"warn<{UNBOUNDED_WARN:g}, fail<{UNBOUNDED_FAIL:g}"
        yield flag_row(r.model, r.attack, "unbounded-incomplete", "sanity", verdict, rate, threshold, message)


def check_transfer_beats_whitebox(records: pd.DataFrame) -> Iterator[dict[str, object]]:
    """transfer-beats-whitebox: samples a transfer or gradient-free attack broke that no white-box attack broke.

    Judged per example at each norm and eps where both kinds ran, on the samples
    both attacked, against the per-sample worst case over *every* white-box attack:
    one weak white-box attack (single-step FGSM) next to a strong one is not masking.
    """
    attacked = records[(records["attack"] != CLEAN) & records["eps"].map(math.isfinite).astype(bool)]
    for (model, norm), g in attacked.groupby(["model", "norm"], sort=False):
        is_other = _not_white_box(g)
        others, white = g[is_other], g[~is_other]
        common = sorted(set(others["sample"]) & set(white["sample"]))
        if not common:
            continue
        others, white = others[others["sample"].isin(common)], white[white["sample"].isin(common)]
        # Every finite budget of the other attacks: fixed-budget ones ran at it, minimum-norm ones (HopSkipJump) have a row for it.
        budgets = others["eps"].astype(float)
        for eps in sorted(set(budgets[np.isfinite(budgets)])):
            if not covers(white, eps):
                continue
            only_other = broken_at(others, eps) & ~broken_at(white, eps).reindex(common, fill_value=False)
            k, n = int(only_other.sum()), len(common)
            names = ", ".join(dict.fromkeys(others.loc[others["eps"] <= eps, "attack"]))
            yield flag_row(
                model,
                names,
                "transfer-beats-whitebox",
                "masking",
                grade(k / n, TRANSFER_WARN, TRANSFER_FAIL),
                k / n,
                f"warn>={TRANSFER_WARN:g}, fail>={TRANSFER_FAIL:g}",
                f"{k} of {n} samples were broken by {names} but by no white-box attack at {norm} eps {eps:g}",
            )


def check_partial_coverage(records: pd.DataFrame) -> Iterator[dict[str, object]]:
    """partial-coverage: an attack run on fewer samples broke, on its samples, ones no other attack broke.

    The per-sample worst case lets a sample outside an attack's ``n_samples`` survive
    that attack, so when the attack that covers only some samples is the strongest, the
    worst case over all samples overstates robustness. Per model, norm, attack and eps
    it ran at, on its samples; warns only: the evaluation is imprecise, not misled.
    Transfer and gradient-free attacks are left to transfer-beats-whitebox, which judges
    the samples they alone broke as masking: one cause, one row.
    """
    attacked = records[records["attack"] != CLEAN]
    for (model, norm), g in attacked.groupby(["model", "norm"], sort=False):
        everyone = set(g["sample"])
        for attack, mine in g.groupby("attack", sort=False):
            if _not_white_box(mine).any():
                continue
            subset = set(mine["sample"])
            others = g[(g["attack"] != attack) & g["sample"].isin(subset)]
            if len(subset) >= len(everyone) or not len(others):
                continue
            budgets = mine["eps"].astype(float)
            for eps in sorted(set(budgets[np.isfinite(budgets)])):
                if not covers(others, eps):
                    continue
                only = broken_at(mine, eps) & ~broken_at(others, eps).reindex(sorted(subset), fill_value=False)
                k, n = int(only.sum()), len(subset)
                all_robust, _, n_all = worst_case_at(g, eps)
                sub_robust, _, _ = worst_case_at(g[g["sample"].isin(subset)], eps)
                yield flag_row(
                    model,
                    str(attack),
                    "partial-coverage",
                    "sanity",
                    grade(k / n, COVERAGE_WARN, math.inf),
                    k / n,
                    f"warn>={COVERAGE_WARN:g}",
                    f"{attack} ran on {n} of {n_all} samples and broke {k} ({k / n:.0%}) that no other {norm} attack broke at eps {eps:g}: "
                    f"the worst case is {all_robust / n_all:.1%} over all {n_all} samples, {sub_robust / n:.1%} on its {n}",
                )


def check_gap(records: pd.DataFrame) -> Iterator[dict[str, object]]:
    """naive-adaptive-gap: worst-case robust accuracy under naive attacks minus under adaptive ones."""
    nva = naive_vs_adaptive(records)
    nva = nva[_bounded(nva)]
    # No row at all when no eps has both an iterative naive attack and an adaptive one: nothing to compare.
    for model, g in nva.groupby("model", sort=False):
        worst = g.loc[g["gap"].idxmax()]
        gap = float(worst["gap"])
        verdict = grade(gap, GAP_WARN, GAP_FAIL)
        yield flag_row(
            model,
            "",
            "naive-adaptive-gap",
            "masking",
            verdict,
            gap,
            f"warn>={GAP_WARN:g}, fail>={GAP_FAIL:g}",
            f"naive attacks leave {worst['naive_robust_accuracy']:.1%} robust, adaptive {worst['adaptive_robust_accuracy']:.1%} "
            f"({worst['norm']} eps {worst['eps']:g}, {int(worst['n_samples'])} samples both attacked)",
        )


def overall(flags: pd.DataFrame) -> Iterator[dict[str, object]]:
    """gradient-masking: per model, the worst verdict of its masking checks."""
    rank = {"pass": 0, "warn": 1, "fail": 2}
    masking = flags[flags["category"] == "masking"]
    for model, g in masking.groupby("model", sort=False):
        worst = max(g["verdict"], key=rank.__getitem__)
        bad = sorted(set(g.loc[g["verdict"] == worst, "check"])) if worst != "pass" else []
        msg = f"{worst}: " + (", ".join(bad) if bad else "no masking check failed")
        yield flag_row(model, "", "gradient-masking", "verdict", worst, float(rank[worst]), "worst masking check", msg)


VERDICT_COLUMNS = ["model", "masking", "failed_masking", "failed_sanity", "unreliable", "why"]


def _named(frame: pd.DataFrame) -> str:
    # "unbounded-incomplete (cw), iterative-weaker (pgd)": a check, and the attack it judged when there is one.
    names = (f"{c} ({a})" if a not in ("", "nan") else c for c, a in zip(frame["check"], frame["attack"], strict=True))
    return ", ".join(dict.fromkeys(names))


def model_verdicts(flags: pd.DataFrame) -> pd.DataFrame:
    """One row per checked model: its masking verdict, its failed checks, and whether its numbers are unreliable.

    A model is *unreliable* when its masking verdict is ``fail`` (its robustness is
    likely an illusion) or when a sanity check failed (the evaluation itself is
    broken, e.g. a C&W that broke 85% with no budget: the robust accuracy left
    over is the attack's failure). Every place that shows a verdict (the terminal,
    the report, the leaderboard, ``--strict``) reads it from here.
    """
    if not len(flags) or "verdict" not in flags:
        return pd.DataFrame(columns=VERDICT_COLUMNS)
    flags = flags.astype({"model": str, "attack": str, "check": str, "category": str, "verdict": str})
    rows = []
    for model, g in flags.groupby("model", sort=False):
        summary = g[g["check"] == "gradient-masking"]
        masking = str(summary["verdict"].iloc[0]) if len(summary) else "-"
        failed = g[(g["verdict"] == "fail") & (g["category"] != "verdict")]
        bad_masking, bad_sanity = _named(failed[failed["category"] == "masking"]), _named(failed[failed["category"] == "sanity"])
        why = [f"masking fail: {bad_masking}"] if bad_masking else []
        why += [f"sanity fail: {bad_sanity}"] if bad_sanity else []
        unreliable = masking == "fail" or bool(bad_masking or bad_sanity)
        rows.append(dict(zip(VERDICT_COLUMNS, [model, masking, bad_masking, bad_sanity, unreliable, "; ".join(why)], strict=True)))
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def failed_checks(flags: pd.DataFrame) -> list[tuple[str, str]]:
    """Every failed check as (``model: check (attack)``, its message); what ``--strict`` fails on."""
    if not len(flags) or "verdict" not in flags:
        return []
    flags = flags.astype(str)
    bad = flags[(flags["verdict"] == "fail") & (flags["category"] != "verdict")]
    return [(f"{bad['model'].iloc[i]}: {_named(bad.iloc[[i]])}", str(bad["message"].iloc[i])) for i in range(len(bad))]
