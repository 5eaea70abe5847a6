"""The per-sample gradient-masking diagnostics of a run folder: schema and reader (pandas only).

``bench.pipeline.measure.diagnostics`` computes them on a model; the masking checks
(``bench.results.flags``) read them from here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = [
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
]
BOOL_COLUMNS = ("softmax_onehot", "grad_zero", "prob_output", "randomized")


def read_diagnostics(run_dir: Path, only: set[str] | None = None) -> pd.DataFrame:
    """The diagnostics of a run folder, from every shard or only those named in ``only`` (empty frame if none)."""
    shards = sorted(p for p in (run_dir / "diagnostics").glob("*.csv") if only is None or p.name in only)
    if not shards:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.concat([pd.read_csv(p) for p in shards], ignore_index=True)
    for col in BOOL_COLUMNS:
        if col in frame:  # diagnostics written before a column existed lack it; the checks skip what is missing
            frame[col] = frame[col].astype(str).str.lower().isin(["true", "1"])
    return frame
