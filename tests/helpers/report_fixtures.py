"""Hand-built per-sample records and run folders for the report, figure and leaderboard tests.

Every sample has label 0; a wrong prediction is 1. ``correct`` says which samples
the model classifies correctly before any attack; ``broken`` which ones an attack
flips (only correct samples can be broken, as in the runner).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.results.records import COLUMNS, shard_name, write_shard
from bench.spec.schema import split_seed


def _frame(
    model: str,
    attack: str,
    use: str,
    tag: str,
    kind: str,
    norm: str,
    eps: float,
    correct: list[bool],
    broken: list[bool],
    dist: list[float] | None = None,
    source: str = "",
    view: str = "logits",
) -> pd.DataFrame:
    n = len(correct)
    ok = np.array(correct)
    hit = np.array(broken) & ok
    clean_pred = np.where(ok, 0, 1)
    adv_pred = np.where(hit | ~ok, 1, 0)
    d = np.array(dist if dist is not None else [0.1] * n, dtype=float)
    d = np.where(hit, d, 0.0)
    return pd.DataFrame(
        {
            "model": model,
            "attack": attack,
            "use": use,
            "view": view,
            "tag": tag,
            "source": source,
            "kind": kind,
            "norm": norm,
            "eps": float(eps),
            "sample": np.arange(n),
            "sample_hash": [f"h{i}" for i in range(n)],
            "label": np.zeros(n, dtype=int),
            "clean_pred": clean_pred,
            "adv_pred": adv_pred,
            "success": hit,
            "robust": ok & ~hit,
            "draws_correct": (adv_pred == 0).astype(float),
            "l0": np.where(hit, 3.0, 0.0),
            "l2": d,
            "linf": np.where(hit, min(eps, 1.0) if math.isfinite(eps) else 0.3, 0.0),
            "projected": False,
            "seconds": 0.01,
        }
    )


def clean(model: str, correct: list[bool]) -> pd.DataFrame:
    """The clean shard of a model."""
    f = _frame(model, "clean", "", "", "", "", 0.0, correct, [False] * len(correct))
    return f.assign(view="logits", l2=0.0, l0=0.0, linf=0.0)


def fixed(
    model: str,
    attack: str,
    correct: list[bool],
    broken_at: dict[float, list[bool]],
    use: str = "torchattacks.pgd",
    tag: str = "naive",
    norm: str = "linf",
    source: str = "",
) -> pd.DataFrame:
    """A fixed-budget attack: ``broken_at`` maps eps -> which samples it breaks there."""
    return pd.concat(
        [_frame(model, attack, use, tag, "fixed_eps", norm, e, correct, b, source=source) for e, b in broken_at.items()], ignore_index=True
    )


def min_norm(
    model: str,
    attack: str,
    correct: list[bool],
    dist: list[float],
    use: str = "bench.cw_l2",
    tag: str = "adaptive",
    norm: str = "l2",
    eps: tuple[float, ...] = (),
) -> pd.DataFrame:
    """A minimum-norm attack: ``dist`` is the norm it needed per sample (inf = never found); rows per eps and unbounded."""
    frames = []
    for e in [*eps, math.inf]:
        within = [math.isfinite(x) and x <= e for x in dist]
        f = _frame(model, attack, use, tag, "min_norm", norm, e, correct, within, dist=[x if math.isfinite(x) else 0.0 for x in dist])
        if norm != "l2":
            f[norm] = np.where(f["success"], [x if math.isfinite(x) else 0.0 for x in dist], 0.0)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def records(*frames: pd.DataFrame) -> pd.DataFrame:
    """Concatenate frames into records with the schema's dtypes."""
    r = pd.concat(frames, ignore_index=True)[list(COLUMNS)]
    return r.astype({k: ("object" if v == "str" else v) for k, v in COLUMNS.items()})


def _seed(model_id: str) -> int | None:
    # A seed sweep stores each copy's seed in its spec; hand-built ids follow the same scheme.
    seed = split_seed(model_id)[1]
    return None if seed is None else int(seed)


def spec(models: dict[str, float], dataset: str = "digits") -> dict:
    """A resolved-spec dict as the manifest stores it: model id -> temperature."""
    return {
        "name": "t",
        "seed": 0,
        "dataset": {"name": dataset},
        "models": [
            {
                "id": m,
                "kind": "baseline" if t == 1 else "student",
                "train": {"temperature": t},
                "seed": split_seed(m)[1] and int(split_seed(m)[1]),
            }
            for m, t in models.items()
        ],
    }


def run_folder(
    root: Path,
    name: str,
    recs: pd.DataFrame,
    dataset: str = "digits",
    temps: dict[str, float] | None = None,
    flags: pd.DataFrame | None = None,
    finished: str = "2026-01-01T00:00:00+00:00",
    eval_fingerprint: str = "e" * 64,
) -> Path:
    """A run folder with one shard per (model, attack), a manifest and optionally flags.csv."""
    run = root / name
    (run / "records").mkdir(parents=True)
    for (model, attack), g in recs.groupby(["model", "attack"], sort=False):
        write_shard(run / "records" / shard_name(model, attack, "0" * 16), g)
    temps = temps or {m: 1.0 for m in dict.fromkeys(recs["model"])}
    manifest = {
        "suite": name,
        "spec": spec(temps, dataset),
        "spec_hash": "ab" * 32,
        "seed": 0,
        "versions": {"bench": "0.1.0", "torch": "x"},
        "git_commit": "c0ffee",
        "device": "cpu",
        "data": {"name": dataset, "fingerprint": "f" * 64, "eval_fingerprint": eval_fingerprint, "n_eval": len(set(recs["sample"]))},
        "started": "2026-01-01T00:00:00+00:00",
        "finished": finished,
        "status": "complete",
        "cells": {},
        "failures": [],
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    if flags is not None:
        flags.to_csv(run / "flags.csv", index=False)
    return run
