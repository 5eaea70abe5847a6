"""Pure functions that group results across models: seed sweeps and temperatures.

A seed sweep expands one model (or attack) into ids that differ only by a
``-s<seed>`` suffix (``distilled-s0``, ``distilled-s1``, ...). Their results are
independent replicates of one configuration, so the report shows the mean and
the spread across seeds next to the per-seed Wilson intervals: the intervals
say how much the number could move with other *samples*, the spread how much
it moves with another *training seed*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bench.results.records import CLEAN
from bench.spec.sweep import split_seed

SEED_COLUMNS = [
    "model",
    "attack",
    "norm",
    "eps",
    "n_seeds",
    "seeds",
    "accuracy_mean",
    "accuracy_std",
    "success_mean",
    "success_std",
]
"""``accuracy`` is the robust accuracy (the clean accuracy on ``attack == "clean"`` rows);
``success`` the attack success rate; ``std`` is the sample standard deviation (ddof=1)."""


def _seed_label(model_seed: str | None, attack_seed: str | None) -> str:
    if model_seed == attack_seed:
        return model_seed or ""
    return ",".join(s for s in (model_seed, attack_seed) if s is not None)


def seed_aggregate(summary: pd.DataFrame, clean: pd.DataFrame) -> pd.DataFrame:
    """Mean and std across seeds per (base model, base attack, norm, eps); clean accuracy as attack ``clean``.

    Only groups with at least two seeded members appear, so a run without a
    seed sweep gives an empty table (with the columns).
    """
    rows: list[dict[str, Any]] = []
    if len(clean):
        c = clean.assign(attack=CLEAN, norm="", eps=0.0, robust_accuracy=clean["clean_accuracy"], attack_success_rate=math.nan)
        rows += _groups(c)
    if len(summary):
        rows += _groups(summary)
    return pd.DataFrame(rows, columns=SEED_COLUMNS)


def _groups(frame: pd.DataFrame) -> list[dict[str, Any]]:
    split_m = frame["model"].map(split_seed)
    split_a = frame["attack"].map(split_seed)
    f = frame.assign(
        _bm=[s[0] for s in split_m],
        _ms=[s[1] for s in split_m],
        _ba=[s[0] for s in split_a],
        _as=[s[1] for s in split_a],
    )
    f = f[f["_ms"].notna() | f["_as"].notna()]
    out = []
    for (model, attack, norm, eps), g in f.groupby(["_bm", "_ba", "norm", "eps"], sort=False, dropna=False):
        if len(g) < 2:
            continue
        acc = g["robust_accuracy"].to_numpy(dtype=float)
        suc = g["attack_success_rate"].to_numpy(dtype=float)
        seeds = sorted({_seed_label(ms, as_) for ms, as_ in zip(g["_ms"], g["_as"], strict=True)}, key=_natural)
        out.append(
            {
                "model": model,
                "attack": attack,
                "norm": norm,
                "eps": float(eps),
                "n_seeds": len(g),
                "seeds": " ".join(seeds),
                "accuracy_mean": float(np.mean(acc)),
                "accuracy_std": float(np.std(acc, ddof=1)),
                "success_mean": _nanmean(suc),
                "success_std": _nanstd(suc),
            }
        )
    return out


def _natural(label: str) -> tuple[int, ...]:
    return tuple(int(p) for p in label.split(",") if p.isdigit())


def _nanmean(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(a.mean()) if len(a) else math.nan


def _nanstd(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(a.std(ddof=1)) if len(a) >= 2 else math.nan


def model_temperatures(spec: Mapping[str, Any] | None) -> dict[str, float]:
    """Model id -> training temperature, from a manifest's resolved spec (students use their own)."""
    out: dict[str, float] = {}
    for m in (spec or {}).get("models", []) or []:
        if isinstance(m, Mapping) and "id" in m:
            train = m.get("train") or {}
            out[str(m["id"])] = float(train.get("temperature", 1.0))
    return out
