"""Pure functions that group results across models: seed replicates and temperature sweeps.

A seed sweep copies each model once per seed, with ids made by
``bench.spec.schema.seed_id`` (``distilled-s0``, ``distilled-s1``, ...) and the seed
in the model's spec. Those copies, and only those, are replicates of one
configuration: the report shows the mean and the spread across seeds next to
the per-seed Wilson intervals (the intervals say how much a number could move
with other *samples*, the spread how much it moves with another *training seed*).
A model merely named ``something-s1`` is not a replicate of anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bench.results.records import CLEAN
from bench.spec.schema import split_seed, split_temperature

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


def seed_replicates(spec: Mapping[str, Any] | None) -> dict[str, tuple[str, int]]:
    """Model id -> (base id, seed) for the models a seed sweep made, from a manifest's resolved spec.

    A model counts only when its spec carries that seed and its id is the one the sweep makes from its base.
    """
    out: dict[str, tuple[str, int]] = {}
    for m in _models(spec):
        base, seed = split_seed(str(m["id"]))
        if seed is not None and m.get("seed") is not None and int(seed) == int(m["seed"]):
            out[str(m["id"])] = (base, int(seed))
    return out


def temperature_sweep(spec: Mapping[str, Any] | None) -> dict[str, float]:
    """Model id -> training temperature for the copies a temperature sweep made of one base model.

    Only ids the sweep makes (``bench.spec.schema.temperature_id``, seed suffix
    allowed) whose spec has that temperature count; a baseline or a student that
    merely has T=1 is not a point of the sweep. When several bases were swept,
    the one with the most temperatures is taken (the first on a tie).
    """
    by_base: dict[str, dict[str, float]] = {}
    for m in _models(spec):
        base_id, _ = split_seed(str(m["id"]))
        parsed = split_temperature(base_id)
        t = float((m.get("train") or {}).get("temperature", 1.0))
        if parsed is not None and math.isclose(parsed[1], t):
            by_base.setdefault(parsed[0], {})[str(m["id"])] = t
    if not by_base:
        return {}
    return max(by_base.values(), key=lambda copies: len(set(copies.values())))


def _models(spec: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return [m for m in (spec or {}).get("models", []) or [] if isinstance(m, Mapping) and "id" in m]


def seed_aggregate(summary: pd.DataFrame, clean: pd.DataFrame, replicates: Mapping[str, tuple[str, int]]) -> pd.DataFrame:
    """Mean and std across seed replicates per (base model, attack, norm, eps); clean accuracy as attack ``clean``.

    Only groups with at least two replicates appear, so a run without a seed
    sweep gives an empty table (with the columns).
    """
    rows: list[dict[str, Any]] = []
    if len(clean):
        c = clean.assign(attack=CLEAN, norm="", eps=0.0, robust_accuracy=clean["clean_accuracy"], attack_success_rate=math.nan)
        rows += _groups(c, replicates)
    if len(summary):
        rows += _groups(summary, replicates)
    return pd.DataFrame(rows, columns=SEED_COLUMNS)


def _groups(frame: pd.DataFrame, replicates: Mapping[str, tuple[str, int]]) -> list[dict[str, Any]]:
    f = frame[frame["model"].isin(list(replicates))]
    f = f.assign(_base=[replicates[m][0] for m in f["model"]], _seed=[replicates[m][1] for m in f["model"]])
    out = []
    for (model, attack, norm, eps), g in f.groupby(["_base", "attack", "norm", "eps"], sort=False, dropna=False):
        if len(g) < 2:
            continue
        acc = g["robust_accuracy"].to_numpy(dtype=float)
        suc = g["attack_success_rate"].to_numpy(dtype=float)
        out.append(
            {
                "model": model,
                "attack": attack,
                "norm": norm,
                "eps": float(eps),
                "n_seeds": len(g),
                "seeds": " ".join(str(s) for s in sorted(set(g["_seed"]))),
                "accuracy_mean": float(np.mean(acc)),
                "accuracy_std": float(np.std(acc, ddof=1)),
                "success_mean": _nanmean(suc),
                "success_std": _nanstd(suc),
            }
        )
    return out


def _nanmean(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(a.mean()) if len(a) else math.nan


def _nanstd(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(a.std(ddof=1)) if len(a) >= 2 else math.nan
