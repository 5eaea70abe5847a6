"""RobustBench entries: one ``model_info/<dataset>/<threat>/<Name>.json`` per model, with RobustBench's field names.

The numbers are the leaderboard's own rows (``build_leaderboards`` on the one run): clean
accuracy, and in ``autoattack_acc`` AutoAttack's robust accuracy where it ran, else bench's
per-sample worst case over every attack of the norm; the footnote says which. ``unreliable``
is the leaderboard's own column, true exactly when ``bench leaderboard`` refuses to rank the
model. Values are strings the way RobustBench writes them (percentages with two decimals).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bench import __version__
from bench.reporting.doc import eps_as_written
from bench.reporting.leaderboard.board import Leaderboard, RunData, build_leaderboards, count_column
from bench.reporting.report.claims import claim_text
from bench.results.metrics import eps_key
from bench.results.records import CLEAN
from bench.spec.schema import ClaimedSpec

log = logging.getLogger(__name__)

THREATS = {"linf": "Linf", "l2": "L2", "l1": "L1"}
"""bench's norm -> RobustBench's threat model name; a norm RobustBench has no table for (l0) is not exported."""
AUTOATTACK_COLUMNS = {"robust_autoattack": "AutoAttack (aa.standard)", "robust_autoattack-rand": "AutoAttack's rand version (aa.rand)"}
"""Leaderboard family columns that hold AutoAttack's own robust accuracy, and how the footnote names them."""


def file_name(model_id: str) -> str:
    """The model id made safe as a file name on every system."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id).strip(".") or "model"


def _percent(v: float) -> str:
    return "" if math.isnan(v) else f"{100 * v:.2f}"


def _measured(row: pd.Series, board: Leaderboard) -> tuple[float, str]:
    """``autoattack_acc`` and the footnote's sentence saying which number it is."""
    threat, eps, n = THREATS[board.norm], eps_as_written(board.eps), int(row["n_samples"])
    for col, name in AUTOATTACK_COLUMNS.items():
        if col in row and not pd.isna(row[col]):
            own = int(row[count_column(col)])  # AutoAttack's own sample count, often below the run's
            return float(row[col]), f"autoattack_acc is {name} robust accuracy at {threat} eps {eps}, measured by bench on {own} samples."
    return (
        float(row["worst_case"]),
        f"autoattack_acc is not AutoAttack's (it did not run): it is bench's per-sample worst case over every {threat} attack "
        f"({row['attacks']}) at eps {eps} on {n} samples, adaptive attacks included.",
    )


def entry(row: pd.Series, board: Leaderboard, spec_model: Mapping[str, Any], claim: ClaimedSpec | None) -> dict[str, Any]:
    """One model's RobustBench entry, in the agreed key order."""
    value, which = _measured(row, board)
    notes = [which]
    reported = ""
    if claim is not None and claim.norm == board.norm:
        if eps_key(claim.eps) == eps_key(board.eps):
            reported = _percent(claim.robust_accuracy)
        notes.append(f"Claimed: {claim_text(claim)}.")
    if bool(row["unreliable"]):
        notes.append(f"Unreliable: {row['why']} (bench's gradient-masking and sanity checks; bench leaderboard does not rank it).")
    notes.append(f"bench {__version__}, spec {str(row['spec_hash'])[:12]}.")
    return {
        "link": "",
        "name": str(row["model"]),
        "authors": "",
        "additional_data": False,
        "number_forward_passes": int(spec_model.get("eval_draws") or 1),
        "dataset": board.dataset,
        "venue": "",
        "architecture": str(spec_model.get("arch") or ("external" if spec_model.get("kind") == "external" else "")),
        "eps": eps_as_written(board.eps),
        "clean_acc": _percent(float(row["clean_accuracy"])),
        "reported": reported,
        "autoattack_acc": _percent(value),
        "external": "",
        "footnote": " ".join(notes),
        "unreliable": bool(row["unreliable"]),
    }


def robustbench_entries(
    run: RunData, spec: Mapping[str, Any] | None, eps: float | None = None, only: str | None = None
) -> dict[Path, dict[str, Any]]:
    """Relative path (``model_info/<dataset>/<threat>/<Name>.json``) -> entry, for every attacked model and exported norm.

    ``spec`` is the run's resolved spec (its manifest's), for each model's architecture, passes and claim. Every
    norm RobustBench has a table for and the run attacked at a finite budget is exported (``only`` that one, when given),
    at ``eps`` or else the leaderboard's default budget.
    """
    models = {str(m.get("id")): m for m in (spec or {}).get("models") or [] if isinstance(m, dict)}
    attacked = run.records[run.records["attack"] != CLEAN]
    out: dict[Path, dict[str, Any]] = {}
    norms = [only] if only else list(dict.fromkeys(str(n) for n in attacked["norm"]))
    for norm in norms:
        if norm not in THREATS:
            log.info("%s: RobustBench has no %s threat model; its rows are not exported", run.run_dir, norm)
            continue
        if not attacked.loc[attacked["norm"] == norm, "eps"].astype(float).map(math.isfinite).any():
            # A minimum-norm attack without a budget list has only its unbounded rows; a RobustBench entry needs an eps.
            log.info("%s: no %s attack ran at a finite eps; no %s entries", run.run_dir, norm, THREATS[norm])
            continue
        for board in build_leaderboards([run], norm, eps):
            for _, row in board.frame.iterrows():
                model = str(row["model"])
                path = Path("model_info", board.dataset, THREATS[norm], f"{file_name(model)}.json")
                out[path] = entry(row, board, models.get(model, {}), run.claims.get(model))
    return out
