"""Pure functions from per-sample records to tables (pandas DataFrames).

* Robust accuracy is over all samples: correct before and after the attack.
* Attack success rate is over the samples classified correctly before the attack.
* A minimum-norm attack succeeds at eps when it misclassifies with ||delta|| <= eps.
* The worst case is per sample: robust only if no attack of that norm broke it.
Every rate carries a 95% Wilson interval over samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from bench.results.records import CLEAN, WORST, within_budget

Z95 = 1.959963984540054
EPS_DIGITS = 9  # eps read from CSV and from a command line compare equal after rounding


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (nan, nan when n is 0)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def count_of(rate: float, n: int) -> int:
    """The count k behind a rate k/n, for a file written before bench kept the counts beside the rates.

    Exact while the rate was written with enough digits: a rate rounded to 4 decimals (a baseline) gives its count back up to n = 10,000.
    """
    return round(rate * n)


def clean_accuracy(records: pd.DataFrame) -> pd.DataFrame:
    """Per model: n_samples, clean accuracy and its interval, from the clean shards."""
    rows = []
    for model, g in records[records["attack"] == CLEAN].groupby("model", sort=False):
        n, k = len(g), int((g["clean_pred"] == g["label"]).sum())
        lo, hi = wilson(k, n)
        rows.append(
            {
                "model": model,
                "n_samples": n,
                "n_correct": k,
                "clean_accuracy": k / n if n else math.nan,
                "clean_accuracy_lo": lo,
                "clean_accuracy_hi": hi,
            }
        )
    return pd.DataFrame(rows, columns=["model", "n_samples", "n_correct", "clean_accuracy", "clean_accuracy_lo", "clean_accuracy_hi"])


def _rates(g: pd.DataFrame) -> dict[str, float]:
    n = len(g)
    correct = g["clean_pred"] == g["label"]
    n_correct = int(correct.sum())
    robust = int(g["robust"].sum())
    success = int(g["success"].sum())
    r_lo, r_hi = wilson(robust, n)
    s_lo, s_hi = wilson(success, n_correct)
    won = g[g["success"]]
    return {
        "n_samples": n,
        "n_correct": n_correct,
        "n_robust": robust,
        "n_success": success,
        "clean_accuracy": n_correct / n if n else math.nan,
        "robust_accuracy": robust / n if n else math.nan,
        "robust_accuracy_lo": r_lo,
        "robust_accuracy_hi": r_hi,
        "attack_success_rate": success / n_correct if n_correct else math.nan,
        "attack_success_rate_lo": s_lo,
        "attack_success_rate_hi": s_hi,
        "median_l2": float(won["l2"].median()) if len(won) else math.nan,
        "median_linf": float(won["linf"].median()) if len(won) else math.nan,
        "median_l0": float(won["l0"].median()) if len(won) else math.nan,
        "n_projected": int(g["projected"].sum()),
        "seconds": float(g["seconds"].sum()),
    }


SUMMARY_KEYS = ["model", "attack", "use", "view", "tag", "source", "kind", "norm", "eps"]


def summarize(records: pd.DataFrame) -> pd.DataFrame:
    """One row per model x attack x eps, plus a ``worst_case`` row per model x norm x eps."""
    attacked = records[records["attack"] != CLEAN]
    rows = [dict(zip(SUMMARY_KEYS, key, strict=True)) | _rates(g) for key, g in attacked.groupby(SUMMARY_KEYS, sort=False, dropna=False)]
    frame = pd.DataFrame(rows)
    worst = worst_case(records)
    if len(worst):
        frame = pd.concat([frame, worst], ignore_index=True)
    if not len(frame):
        return frame
    order = {m: i for i, m in enumerate(dict.fromkeys(records["model"]))}
    frame["_m"] = frame["model"].map(order)
    frame["_w"] = frame["attack"] == WORST
    frame = frame.sort_values(["_m", "norm", "_w", "attack", "eps"], kind="stable").drop(columns=["_m", "_w"])
    return frame.reset_index(drop=True)


def broken_at(records: pd.DataFrame, eps: float) -> pd.Series:
    """Per sample: whether any of these rows (one norm) breaks it within budget ``eps``.

    A fixed-budget attack counts when it ran at a budget <= eps; a minimum-norm
    attack's unbounded result counts when its perturbation is within eps.
    """
    wrong = records["adv_pred"] != records["label"]
    fixed = (records["kind"] == "fixed_eps") & within_budget(records["eps"], eps)
    norm = records["norm"].iloc[0] if len(records) else "linf"
    unbounded = (records["kind"] == "min_norm") & np.isinf(records["eps"])
    within = unbounded & within_budget(records[norm], eps)
    hit = wrong & (fixed | within)
    return hit.groupby(records["sample"]).any()


def worst_case_at(records: pd.DataFrame, eps: float) -> tuple[int, int, int]:
    """The per-sample worst case of these rows (one model, one norm) at ``eps``: (n_robust, n_correct, n_samples).

    A sample is robust when it was classified correctly and no attack broke it
    within ``eps``; a sample outside an attack's ``n_samples`` survives that attack.
    """
    clean_ok = (records["clean_pred"] == records["label"]).groupby(records["sample"]).all()
    broken = broken_at(records, eps).reindex(clean_ok.index, fill_value=False)
    return int((clean_ok & ~broken).sum()), int(clean_ok.sum()), len(clean_ok)


def eps_key(eps: float) -> float:
    """``eps`` rounded so that values parsed from CSV and from a command line compare equal."""
    return round(float(eps), EPS_DIGITS)


def shared_eps(eps_sets: Iterable[Iterable[float]]) -> list[float]:
    """Every eps present in all the sets, ascending (none when there are no sets).

    Values are matched after ``eps_key`` rounding; each one returned is the first set's.
    """
    keyed = [{eps_key(e): float(e) for e in s} for s in eps_sets]
    if not keyed:
        return []
    return [keyed[0][k] for k in sorted(set.intersection(*(set(k) for k in keyed)))]


def common_eps(eps_sets: Iterable[Iterable[float]], finite_only: bool = False) -> float | None:
    """The largest eps present in every set (a finite one preferred), or None when they share none.

    Values are matched after ``eps_key`` rounding; the value returned is one of the inputs.
    """
    common = shared_eps(eps_sets)
    finite = [e for e in common if math.isfinite(e)]
    if finite:
        return finite[-1]
    if finite_only or not common:
        return None
    return common[-1]


COUNT_COLUMNS = ["n_samples", "n_correct", "n_robust", "n_success"]
"""The counts behind every summary row's rates: samples, correct before the attack, robust after it, broken by it."""
WORST_COLUMNS = [
    *SUMMARY_KEYS,
    *COUNT_COLUMNS,
    "clean_accuracy",
    "robust_accuracy",
    "robust_accuracy_lo",
    "robust_accuracy_hi",
    "attack_success_rate",
]


def worst_case(records: pd.DataFrame, tag: str | None = None) -> pd.DataFrame:
    """Per-sample worst case over the attacks of each norm (optionally only one tag)."""
    attacked = records[records["attack"] != CLEAN]
    if tag is not None:
        attacked = attacked[attacked["tag"] == tag]
    rows = []
    for (model, norm), g in attacked.groupby(["model", "norm"], sort=False):
        for eps in sorted(set(g["eps"])):
            robust, correct, n = worst_case_at(g, eps)
            lo, hi = wilson(robust, n)
            rows.append(
                {
                    "model": model,
                    "attack": WORST,
                    "use": "",
                    "view": "",
                    "tag": tag or "",
                    "source": "",
                    "kind": "",
                    "norm": norm,
                    "eps": eps,
                    "n_samples": n,
                    "n_correct": correct,
                    "n_robust": robust,
                    "n_success": correct - robust,
                    "clean_accuracy": correct / n,
                    "robust_accuracy": robust / n,
                    "robust_accuracy_lo": lo,
                    "robust_accuracy_hi": hi,
                    "attack_success_rate": 1 - robust / max(correct, 1) if correct else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=WORST_COLUMNS)


NVA_COLUMNS = [
    "model",
    "norm",
    "eps",
    "n_samples",
    "naive_robust_accuracy",
    "adaptive_robust_accuracy",
    "gap",
    "n_naive_robust",
    "n_adaptive_robust",
]


def covers(records: pd.DataFrame, eps: float) -> bool:
    """Whether these rows say anything at budget ``eps``: an attack ran at exactly eps, or a minimum-norm one ran unbounded."""
    fixed = records.loc[records["kind"] == "fixed_eps", "eps"].map(eps_key)
    unbounded = (records["kind"] == "min_norm") & records["eps"].map(math.isinf).astype(bool)
    return bool((fixed == eps_key(eps)).any() or unbounded.any())


def naive_vs_adaptive(records: pd.DataFrame) -> pd.DataFrame:
    """Per model x norm x eps: worst-case robust accuracy under the naive attacks, under the adaptive ones, and the gap.

    Like is compared with like, so that the gap measures masking rather than one
    attack being weaker than another:

    * only at an eps where the naive group has an *iterative* attack (PGD, not FGSM
      alone, not a minimum-norm attack with one fixed constant) and the adaptive
      group covers that eps too;
    * on the samples both groups attacked (``n_samples``), each group's worst case
      taken per sample as everywhere else.
    """
    from bench.results.families import family_of

    attacked = records[records["attack"] != CLEAN]
    rows = []
    for (model, norm), g in attacked.groupby(["model", "norm"], sort=False):
        naive, adaptive = g[g["tag"] == "naive"], g[g["tag"] == "adaptive"]
        iterative = naive[(naive["kind"] == "fixed_eps") & (naive["use"].map(lambda u: family_of(u).role) == "iterative")]
        common = sorted(set(naive["sample"]) & set(adaptive["sample"]))
        if not len(iterative) or not common:
            continue
        naive, adaptive = naive[naive["sample"].isin(common)], adaptive[adaptive["sample"].isin(common)]
        for eps in sorted(set(iterative["eps"].astype(float))):
            if not covers(adaptive, eps):
                continue
            n_robust, _, n = worst_case_at(naive, eps)
            a_robust, _, _ = worst_case_at(adaptive, eps)
            rows.append(
                {
                    "model": model,
                    "norm": norm,
                    "eps": eps,
                    "n_samples": n,
                    "naive_robust_accuracy": n_robust / n,
                    "adaptive_robust_accuracy": a_robust / n,
                    "gap": (n_robust - a_robust) / n,
                    "n_naive_robust": n_robust,
                    "n_adaptive_robust": a_robust,
                }
            )
    return pd.DataFrame(rows, columns=NVA_COLUMNS)


def robustness_metric(records: pd.DataFrame) -> pd.DataFrame:
    """Papernot's robustness: mean minimal perturbation over correctly classified samples, per min-norm attack.

    Only samples the attack broke count toward the mean; ``found`` says how many that was.
    """
    mn = records[(records["kind"] == "min_norm") & np.isinf(records["eps"])]
    rows = []
    for (model, attack, norm), g in mn.groupby(["model", "attack", "norm"], sort=False):
        ok = g[g["clean_pred"] == g["label"]]
        won = ok[ok["success"]]
        rows.append(
            {
                "model": model,
                "attack": attack,
                "norm": norm,
                "n_correct": len(ok),
                "found": len(won),
                "mean_min_norm": float(won[norm].mean()) if len(won) else math.nan,
                "median_min_norm": float(won[norm].median()) if len(won) else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["model", "attack", "norm", "n_correct", "found", "mean_min_norm", "median_min_norm"])
