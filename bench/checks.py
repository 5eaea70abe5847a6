"""Sanity and gradient-masking verdicts (filled in by the adaptive-evaluation work)."""

from __future__ import annotations

import pandas as pd

FLAG_COLUMNS = ["model", "attack", "check", "verdict", "value", "threshold", "message"]


def run_checks(records: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """All checks over a run's records; one row per model (x attack) x check."""
    return pd.DataFrame(columns=FLAG_COLUMNS)
