"""Pure functions from per-sample records to tables (pandas DataFrames).

* Robust accuracy is over all samples: correct before and after the attack.
* Attack success rate is over the samples classified correctly before the attack.
* A minimum-norm attack succeeds at eps when it misclassifies with ||delta|| <= eps.
* The worst case is per sample: robust only if no attack of that norm broke it.
Every rate carries a 95% Wilson interval over samples.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.records import NORM_TOL

CLEAN = "clean"
WORST = "worst_case"
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (nan, nan when n is 0)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clean_accuracy(records: pd.DataFrame) -> pd.DataFrame:
    """Per model: n_samples, clean accuracy and its interval, from the clean shards."""
    rows = []
    for model, g in records[records["attack"] == CLEAN].groupby("model", sort=False):
        n, k = len(g), int((g["clean_pred"] == g["label"]).sum())
        lo, hi = wilson(k, n)
        rows.append({"model": model, "n_samples": n, "clean_accuracy": k / n if n else math.nan, "clean_accuracy_lo": lo, "clean_accuracy_hi": hi})
    return pd.DataFrame(rows, columns=["model", "n_samples", "clean_accuracy", "clean_accuracy_lo", "clean_accuracy_hi"])


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
    rows = [dict(zip(SUMMARY_KEYS, key)) | _rates(g) for key, g in attacked.groupby(SUMMARY_KEYS, sort=False, dropna=False)]
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
    """Per sample: whether any of these rows (one norm) breaks it within budget ``eps``."""
    wrong = records["adv_pred"] != records["label"]
    fixed = (records["kind"] == "fixed_eps") & (records["eps"] <= eps + NORM_TOL)
    norm = records["norm"].iloc[0] if len(records) else "linf"
    unbounded = (records["kind"] == "min_norm") & np.isinf(records["eps"])
    within = unbounded & (records[norm] <= eps + NORM_TOL)
    hit = wrong & (fixed | within)
    return hit.groupby(records["sample"]).any()


WORST_COLUMNS = [*SUMMARY_KEYS, "n_samples", "clean_accuracy", "robust_accuracy", "robust_accuracy_lo", "robust_accuracy_hi", "attack_success_rate"]


def worst_case(records: pd.DataFrame, tag: str | None = None) -> pd.DataFrame:
    """Per-sample worst case over the attacks of each norm (optionally only one tag)."""
    attacked = records[records["attack"] != CLEAN]
    if tag is not None:
        attacked = attacked[attacked["tag"] == tag]
    rows = []
    for (model, norm), g in attacked.groupby(["model", "norm"], sort=False):
        clean_ok = (g["clean_pred"] == g["label"]).groupby(g["sample"]).all()
        n = len(clean_ok)
        for eps in sorted(set(g["eps"])):
            broken = broken_at(g, eps).reindex(clean_ok.index, fill_value=False)
            robust = int((clean_ok & ~broken).sum())
            lo, hi = wilson(robust, n)
            rows.append({
                "model": model, "attack": WORST, "use": "", "view": "", "tag": tag or "", "source": "",
                "kind": "", "norm": norm, "eps": eps, "n_samples": n, "clean_accuracy": float(clean_ok.mean()),
                "robust_accuracy": robust / n, "robust_accuracy_lo": lo, "robust_accuracy_hi": hi,
                "attack_success_rate": 1 - robust / max(int(clean_ok.sum()), 1) if clean_ok.any() else math.nan,
            })
    return pd.DataFrame(rows, columns=WORST_COLUMNS)


def naive_vs_adaptive(records: pd.DataFrame) -> pd.DataFrame:
    """Per model x norm x eps: worst-case robust accuracy under naive vs adaptive attacks, and the gap."""
    naive = worst_case(records, "naive")
    adaptive = worst_case(records, "adaptive")
    if not len(naive) or not len(adaptive):
        return pd.DataFrame(columns=["model", "norm", "eps", "naive_robust_accuracy", "adaptive_robust_accuracy", "gap"])
    keys = ["model", "norm", "eps"]
    merged = naive[keys + ["robust_accuracy"]].merge(adaptive[keys + ["robust_accuracy"]], on=keys, suffixes=("_naive", "_adaptive"))
    merged = merged.rename(columns={"robust_accuracy_naive": "naive_robust_accuracy", "robust_accuracy_adaptive": "adaptive_robust_accuracy"})
    merged["gap"] = merged["naive_robust_accuracy"] - merged["adaptive_robust_accuracy"]
    return merged.reset_index(drop=True)


def robustness_metric(records: pd.DataFrame) -> pd.DataFrame:
    """Papernot's robustness: mean minimal perturbation over correctly classified samples, per min-norm attack.

    Only samples the attack broke count toward the mean; ``found`` says how many that was.
    """
    mn = records[(records["kind"] == "min_norm") & np.isinf(records["eps"])]
    rows = []
    for (model, attack, norm), g in mn.groupby(["model", "attack", "norm"], sort=False):
        ok = g[g["clean_pred"] == g["label"]]
        won = ok[ok["success"]]
        rows.append({"model": model, "attack": attack, "norm": norm, "n_correct": len(ok), "found": len(won),
                     "mean_min_norm": float(won[norm].mean()) if len(won) else math.nan,
                     "median_min_norm": float(won[norm].median()) if len(won) else math.nan})
    return pd.DataFrame(rows, columns=["model", "attack", "norm", "n_correct", "found", "mean_min_norm", "median_min_norm"])
