"""Per-sample records, and the per-sample diagnostics beside them: the source of truth for every table, figure and check.

One row per model x attack x eps x sample. Each finished cell (one attack on
one model) is one CSV shard under ``records/``, written atomically, so a shard
either exists complete or not at all.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.fsutil import atomic_write_text

CLEAN = "clean"
"""Reserved attack id of a model's clean-prediction records (one per test sample)."""
WORST = "worst_case"
"""Reserved attack id of the per-sample worst case over every attack of one norm, in summaries."""
RESERVED_IDS = (CLEAN, WORST)

COLUMNS: dict[str, str] = {
    "model": "str",
    "attack": "str",
    "use": "str",
    "view": "str",
    "tag": "str",
    "source": "str",
    "kind": "str",
    "norm": "str",
    "eps": "float64",
    "sample": "int64",
    "sample_hash": "str",
    "label": "int64",
    "clean_pred": "int64",
    "adv_pred": "int64",
    "success": "bool",
    "robust": "bool",
    "draws_correct": "float64",
    "l0": "float64",
    "l2": "float64",
    "linf": "float64",
    "projected": "bool",
    "seconds": "float64",
}
"""Column -> dtype. ``eps`` is inf for the unbounded row of a minimum-norm attack;
``source`` is empty unless the examples were crafted on another model (transfer);
``success`` means correctly classified before and misclassified after; ``robust``
means correctly classified before and after (a randomized model's prediction is the majority
vote of its ``eval_draws`` passes; ``draws_correct`` is the fraction of them that gave the
label, 1 or 0 for a deterministic model); norms are of the perturbation
actually applied (NaN where the attack found none within budget is not used:
norms always describe the final adversarial input)."""

UNBOUNDED = math.inf
# Float noise allowed when a perturbation's norm is compared with a budget.
NORM_TOL = 1e-5


def within_budget(norms: float | np.ndarray | pd.Series, eps: float) -> bool | np.ndarray | pd.Series:
    """The minimum-norm budget rule: a perturbation counts at budget ``eps`` when its norm is <= eps.

    The per-eps rows of a minimum-norm attack cell, the worst case over records and
    the binarization test's "found within eps" all use this one function, so they
    can never disagree. Elementwise on arrays; a bool for one norm.
    """
    return norms <= eps + NORM_TOL


def shard_name(model: str, attack: str, key: str) -> str:
    """File name of a cell's shard; the key makes it content-addressed."""
    return f"{model}__{attack}.{key[:16]}.csv"


def write_shard(path: Path, frame: pd.DataFrame) -> None:
    """Write one cell's records atomically, in the canonical column order."""
    missing = set(COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"records lack columns {sorted(missing)}")
    buf = io.StringIO()
    frame[list(COLUMNS)].to_csv(buf, index=False, float_format="%.9g")
    atomic_write_text(path, buf.getvalue())


def read_shard(path: Path) -> pd.DataFrame:
    """Read one shard with the schema's dtypes."""
    frame = pd.read_csv(
        path,
        dtype={k: v for k, v in COLUMNS.items() if v != "bool"},
        keep_default_na=False,
        na_values={"l0": ["nan"], "l2": ["nan"], "linf": ["nan"]},
    )
    for col, dtype in COLUMNS.items():
        if dtype == "bool":
            frame[col] = frame[col].astype(str).str.lower().isin(["true", "1"])
    if "draws_correct" not in frame:
        # A shard written before randomized models were judged by a vote: every model then gave one draw.
        frame.insert(list(COLUMNS).index("draws_correct"), "draws_correct", (frame["adv_pred"] == frame["label"]).astype(float))
    return frame


def read_records(run_dir: Path, only: set[str] | None = None) -> pd.DataFrame:
    """The records of a run folder, from every shard or only those named in ``only`` (empty frame with the schema if none)."""
    shards = sorted(p for p in (run_dir / "records").glob("*.csv") if only is None or p.name in only)
    if not shards:
        return pd.DataFrame({c: pd.Series(dtype="object" if t == "str" else t) for c, t in COLUMNS.items()})
    return pd.concat([read_shard(p) for p in shards], ignore_index=True)


# The per-sample gradient-masking diagnostics of a model (``diagnostics/<model>.<key>.csv``): computed on the model
# by ``bench.pipeline.measure.diagnostics``, read here by the masking checks (``bench.results.flags``).
DIAGNOSTICS_COLUMNS = [
    "model",
    "sample",
    "max_abs_logit",
    "logit_gap",
    "softmax_onehot",
    "grad_zero",
    "grad_l1",
    # AutoAttack's cheap model checks (see docs/flags.md): the output looks like probabilities, it differs
    # across repeated passes, and how many times the forward pass called backward/grad (one value per model).
    "prob_output",
    "randomized",
    "grad_calls",
    # The cosine between the input gradients of two passes (1 unless the model draws randomness), and the passes
    # each judged prediction takes (the model's eval_draws): read by gradient-noise and randomized-model.
    "grad_cosine",
    "eval_draws",
]
DIAGNOSTICS_BOOL = ("softmax_onehot", "grad_zero", "prob_output", "randomized")


def read_diagnostics(run_dir: Path, only: set[str] | None = None) -> pd.DataFrame:
    """The diagnostics of a run folder, from every shard or only those named in ``only`` (empty frame if none)."""
    shards = sorted(p for p in (run_dir / "diagnostics").glob("*.csv") if only is None or p.name in only)
    if not shards:
        return pd.DataFrame(columns=DIAGNOSTICS_COLUMNS)
    frame = pd.concat([pd.read_csv(p) for p in shards], ignore_index=True)
    for col in DIAGNOSTICS_BOOL:
        if col in frame:  # diagnostics written before a column existed lack it; the checks skip what is missing
            frame[col] = frame[col].astype(str).str.lower().isin(["true", "1"])
    return frame
