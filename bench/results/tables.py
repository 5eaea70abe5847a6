"""The tables of one run, computed from its records (and diagnostics): what summary.csv and friends hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.results import audit
from bench.results.details import Details
from bench.results.flags import (
    FLAG_COLUMNS,
    check_gap,
    check_gradient_noise,
    check_iterative_vs_single_step,
    check_monotone_eps,
    check_partial_coverage,
    check_saturation,
    check_transfer_beats_whitebox,
    check_unbounded,
    check_zero_gradients,
    overall,
)
from bench.results.metrics import WORST_COLUMNS, clean_accuracy, naive_vs_adaptive, robustness_metric, summarize
from bench.results.records import CLEAN
from bench.results.seeds import seed_aggregate, seed_replicates

# A worst-case row's columns but ``kind``, then those only an attack's own row fills.
SUMMARY_COLUMNS = [c for c in WORST_COLUMNS if c != "kind"] + [
    "attack_success_rate_lo",
    "attack_success_rate_hi",
    "median_l2",
    "median_linf",
    "median_l0",
    "n_projected",
]


def run_checks(
    records: pd.DataFrame, summary: pd.DataFrame, diagnostics: pd.DataFrame | None = None, details: list[Details] | None = None
) -> pd.DataFrame:
    """Every check over one run (``bench.results.flags``, ``bench.results.audit``); one row per model (x attack) x check,
    plus a verdict per model.

    ``details`` (what traced attacks recorded) adds the indicators of attack failure.
    """
    rows: list[dict[str, object]] = []
    if diagnostics is not None and len(diagnostics):
        rows += check_saturation(diagnostics)
        rows += check_zero_gradients(diagnostics)
        rows += check_gradient_noise(diagnostics)
        rows += audit.check_model_outputs(diagnostics)
    if len(summary):
        rows += check_iterative_vs_single_step(summary)
        rows += check_monotone_eps(summary)
        rows += check_unbounded(summary)
        rows += audit.check_backend_disagreement(summary)
    if len(records[records["attack"] != CLEAN]):
        rows += check_transfer_beats_whitebox(records)
        rows += check_partial_coverage(records)
        rows += check_gap(records)
        if details:
            known = diagnostics is not None and "randomized" in diagnostics
            randomized = frozenset(diagnostics.loc[diagnostics["randomized"].astype(bool), "model"]) if known else frozenset()
            rows += audit.check_indicators(records, details, randomized)
    flags = pd.DataFrame(rows, columns=FLAG_COLUMNS)
    flags = pd.concat([flags, pd.DataFrame(list(overall(flags)), columns=FLAG_COLUMNS)], ignore_index=True)
    return flags


@dataclass(frozen=True)
class RunTables:
    """The tables of one run, computed from its records."""

    summary: pd.DataFrame
    clean: pd.DataFrame
    nva: pd.DataFrame
    robust: pd.DataFrame
    flags: pd.DataFrame
    seeds: pd.DataFrame


def compute_tables(
    records: pd.DataFrame,
    diagnostics: pd.DataFrame | None = None,
    spec: Mapping[str, Any] | None = None,
    details: list[Details] | None = None,
) -> RunTables:
    """Every table of a report, from records (and the per-sample diagnostics and attack details the checks use)."""
    summary = summarize(records)
    summary = summary.reindex(columns=SUMMARY_COLUMNS + ["kind"]) if len(summary) else pd.DataFrame(columns=SUMMARY_COLUMNS + ["kind"])
    clean = clean_accuracy(records)
    flags = run_checks(records, summary[SUMMARY_COLUMNS], diagnostics, details)
    return RunTables(
        summary, clean, naive_vs_adaptive(records), robustness_metric(records), flags, seed_aggregate(summary, clean, seed_replicates(spec))
    )
