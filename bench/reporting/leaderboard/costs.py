"""The leaderboard's cost columns: join each model's cost (``costs/``), filter by a budget, sort by a cost.

A filter (``--max-params``, ``--max-flops``, ``--max-latency-ms``) is applied before
ranking, so ranks answer "the most robust model within this budget"; a model whose
cost was not measured (a run from before bench measured costs) never fits a budget.
A sort (``--sort params``) only reorders the rows, smallest first: ranks stay those of
the worst case, and unreliable models stay below the reliable ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

# Leaderboard column <- cost table column.
COLUMNS = {
    "params": "params",
    "flops_per_sample": "flops_per_sample",
    "latency_batch1_ms": "latency_batch1_ms",
    "train_seconds": "total_train_seconds",
    "train_cpu_seconds": "total_train_cpu_seconds",
}
NOISY = "noisy"  # the batch-1 latency was measured on a busy machine (bench.pipeline.measure.costs)
PRECISION = "train_precision"  # fp32 or bf16: the model's own training (train.precision); "" when bench did not train it
SORT_KEYS = {"params": "params", "flops": "flops_per_sample", "latency": "latency_batch1_ms", "train": "train_seconds"}


@dataclass(frozen=True)
class CostOptions:
    """How the leaderboard uses costs: an optional budget per cost, and an optional sort key (see ``SORT_KEYS``)."""

    sort: str | None = None
    max_params: float | None = None
    max_flops: float | None = None
    max_latency_ms: float | None = None

    def budgets(self) -> dict[str, float]:
        """Leaderboard column -> the largest value that fits."""
        pairs = {"params": self.max_params, "flops_per_sample": self.max_flops, "latency_batch1_ms": self.max_latency_ms}
        return {col: float(v) for col, v in pairs.items() if v is not None}


def budget_text(opts: CostOptions) -> str:
    """``params <= 100000, flops_per_sample <= 5e+06``: the budgets, for messages."""
    return ", ".join(f"{col} <= {limit:g}" for col, limit in opts.budgets().items())


def add_costs(frame: pd.DataFrame, costs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``frame`` (leaderboard rows with ``run_dir`` and ``model``) with the cost columns; NaN where not measured."""
    out = frame.copy()
    for col in COLUMNS:
        out[col] = math.nan
    out[NOISY] = False
    out[PRECISION] = ""
    for i, row in out.iterrows():
        c = costs.get(str(row["run_dir"]))
        hit = c[c["model"] == row["model"]] if c is not None and len(c) else None
        if hit is not None and len(hit):
            for col, src in COLUMNS.items():
                out.at[i, col] = float(hit[src].iloc[0]) if src in hit else math.nan  # costs.csv from before a column
            out.at[i, NOISY] = bool(hit["noisy"].iloc[0]) if "noisy" in hit else False
            out.at[i, PRECISION] = str(hit[PRECISION].iloc[0]) if PRECISION in hit and hit[PRECISION].notna().all() else ""
    return out


def noisy_latency_warning(frame: pd.DataFrame, opts: CostOptions) -> str | None:
    """What to say when a sort or a budget uses latencies that were measured on a busy machine (None when none is)."""
    uses = opts.sort == "latency" or opts.max_latency_ms is not None
    noisy = frame.loc[frame[NOISY].astype(bool), "model"].tolist() if NOISY in frame else []
    if not uses or not noisy:
        return None
    what = "sorted" if opts.sort == "latency" else "filtered"
    return f"latency of {', '.join(map(str, noisy))} was measured on a busy machine (noisy), yet the leaderboard is {what} by it"


def within_cost_budget(frame: pd.DataFrame, opts: CostOptions) -> pd.DataFrame:
    """The rows whose every budgeted cost is known and at most its budget."""
    keep = pd.Series(True, index=frame.index)
    for col, limit in opts.budgets().items():
        keep &= frame[col].notna() & (frame[col] <= limit)
    return frame[keep]


def sort_by_cost(frame: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Rows reordered by a cost (smallest first, unknown last), reliable models before unreliable ones; ranks unchanged."""
    if key is None or key == "rank" or not len(frame):
        return frame
    col = SORT_KEYS[key]
    flag = frame["unreliable"].astype(bool) if "unreliable" in frame else pd.Series(False, index=frame.index)
    ordered = frame.assign(_u=flag).sort_values(["_u", col], ascending=[True, True], na_position="last", kind="stable")
    return ordered.drop(columns="_u").reset_index(drop=True)


def display_columns(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The human-readable cost columns of a leaderboard table."""

    def num(v: float, f: str) -> str:
        return "–" if math.isnan(v) else format(v, f)

    return {
        "params": [num(v, ",.0f") for v in frame["params"]],
        "FLOPs": [num(v / 1e6, ".3g") + " M" if not math.isnan(v) else "–" for v in frame["flops_per_sample"]],
        "latency b1": [
            (num(v, ".3g") + " ms" + (" (noisy)" if noisy else "")) if not math.isnan(v) else "–"
            for v, noisy in zip(frame["latency_batch1_ms"], frame.get(NOISY, pd.Series(False, index=frame.index)), strict=True)
        ],
        # Wall and CPU time: a training paused or sharing its cores shows as wall >> CPU, not as a costly model.
        "train": [
            (num(v, ".0f") + " s" + _train_note(c, p)) if not math.isnan(v) else "–"
            for v, c, p in zip(
                frame["train_seconds"], frame["train_cpu_seconds"], frame.get(PRECISION, pd.Series("", index=frame.index)), strict=True
            )
        ],
    }


def _train_note(cpu: float, precision: str) -> str:
    """`` (CPU 151 s, bf16)``: the CPU time when known, and bf16 when the model trained in it."""
    bits = ([] if math.isnan(cpu) else [f"CPU {cpu:.0f} s"]) + (["bf16"] if precision == "bf16" else [])
    return f" ({', '.join(bits)})" if bits else ""
