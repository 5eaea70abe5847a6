"""Claimed vs measured: what a defence's paper reports (``ModelSpec.claimed``) beside bench's own number.

In the spirit of the robust-ml.org defence list, which showed each claim next to the
analysis that broke it. A claim is read from the run's manifest, never from the
records, and changes no number bench computes: the measured side is the per-sample
worst case over every attack of the claim's norm, at the claim's budget.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import ValidationError

from bench.reporting.doc import Section, Table, eps_as_written, pct, pct_ci, pts
from bench.reporting.figures.plots import norm_name
from bench.results.metrics import eps_key
from bench.results.records import WORST
from bench.spec.schema import ClaimedSpec

log = logging.getLogger(__name__)


def read_claims(spec: Mapping[str, Any] | None) -> dict[str, ClaimedSpec]:
    """Model id -> its claim, from a manifest's resolved spec; a model without one (or a spec from before claims) has none."""
    out: dict[str, ClaimedSpec] = {}
    for m in (spec or {}).get("models") or []:
        raw = m.get("claimed") if isinstance(m, dict) else None
        if not raw:
            continue
        try:
            out[str(m.get("id"))] = ClaimedSpec.model_validate(raw)
        except ValidationError as exc:
            # The spec was validated when the run started; a manifest edited since is shown without the claim.
            log.warning("model %s: its claimed number does not validate and is not shown (%s)", m.get("id"), exc.errors()[0]["msg"])
    return out


def claim_text(claim: ClaimedSpec) -> str:
    """``89.0% at L∞ eps 8/255 (Papernot et al. 2016)``: the claim as a reader compares it."""
    return f"{pct(claim.robust_accuracy)} at {norm_name(claim.norm)} eps {eps_as_written(claim.eps)} ({claim.source})"


def measured_at(summary: pd.DataFrame, model: str, norm: str, eps: float) -> tuple[float, float, float]:
    """The per-sample worst case over every attack of ``norm`` at ``eps`` for ``model``, with its 95% interval; NaNs without."""
    if not len(summary):
        return math.nan, math.nan, math.nan
    s = summary[(summary["attack"] == WORST) & (summary["model"] == model) & (summary["norm"] == norm)]
    hit = s[s["eps"].astype(float).map(eps_key) == eps_key(eps)]
    if not len(hit):
        return math.nan, math.nan, math.nan
    r = hit.iloc[0]
    return float(r["robust_accuracy"]), float(r["robust_accuracy_lo"]), float(r["robust_accuracy_hi"])


def claims_section(summary: pd.DataFrame, claims: Mapping[str, ClaimedSpec]) -> Section | None:
    """Per model with a claim: the claim, bench's worst case at the claim's budget [95%], and how far apart they are."""
    if not claims:
        return None
    rows, classes = [], []
    for model, c in claims.items():
        v, lo, hi = measured_at(summary, model, c.norm, c.eps)
        # Marked when the whole interval lies below the claim: the sample size cannot explain the difference.
        classes.append("fail" if hi < c.robust_accuracy else "")
        rows.append(
            {
                "model": model,
                "claimed": pct(c.robust_accuracy),
                "threat model": f"{norm_name(c.norm)} eps {eps_as_written(c.eps)}",
                "measured worst case": pct_ci(v, lo, hi) if not math.isnan(v) else "not evaluated at this budget",
                "measured - claimed": pts(v - c.robust_accuracy),
                "source": c.source,
            }
        )
    frame = pd.DataFrame(rows)
    text = (
        "What each defence's own paper reports (the suite's `claimed`), beside bench's per-sample worst case over every attack "
        "of the claim's norm at the claim's budget (95% Wilson interval). A measured number far below the claim is the "
        "claim broken; the claim changes nothing bench computes."
    )
    return Section("Claimed vs measured", text, (Table(frame, tuple(classes)),))


CLAIM_COLUMNS = ["claimed", "claimed_norm", "claimed_eps", "claimed_source"]
"""The leaderboard frame's claim columns: the claimed rate (NaN without a claim), its norm, budget and source."""


def claim_columns(claim: ClaimedSpec | None) -> dict[str, object]:
    """One model's ``CLAIM_COLUMNS``."""
    if claim is None:
        return {"claimed": math.nan, "claimed_norm": "", "claimed_eps": math.nan, "claimed_source": ""}
    return {"claimed": claim.robust_accuracy, "claimed_norm": claim.norm, "claimed_eps": claim.eps, "claimed_source": claim.source}


def claim_cells(frame: pd.DataFrame) -> list[str]:
    """The displayed claim of each leaderboard row (``–`` without one), from its ``CLAIM_COLUMNS``."""
    return [
        "–" if math.isnan(v) else claim_text(ClaimedSpec(robust_accuracy=v, norm=n, eps=e, source=s))
        for v, n, e, s in zip(*(frame[c] for c in CLAIM_COLUMNS), strict=True)
    ]
