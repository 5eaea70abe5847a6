"""The run folders a site shows: each run's leaderboard data, its manifest, where its files go, and its models' claims.

A claim is what a defence's paper reports (``ModelSpec.claimed``: robust accuracy,
norm, eps, source). It is read from the manifest's resolved spec defensively, as a
plain dict: a run written before bench knew the field has none, and a malformed one
is shown as absent rather than stopping the site.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.reporting.leaderboard.board import RunData, load_run
from bench.reporting.site.pages import slug
from bench.results.run_folder import RunFolder


@dataclass(frozen=True)
class Claim:
    """A model's declared robust accuracy (a fraction) at a norm and eps, and where it is from."""

    robust_accuracy: float
    norm: str
    eps: float
    source: str


@dataclass(frozen=True)
class SiteRun:
    """One run folder as the site shows it; its files go under ``runs/<slug>/``, its model pages under ``models/<slug>/``."""

    data: RunData
    manifest: dict[str, Any]
    slug: str
    has_report: bool = False  # the run folder has a report.html, copied into the site

    @property
    def spec_models(self) -> dict[str, dict[str, Any]]:
        """Model id -> its resolved spec, as the manifest stores it ({} for a run without one)."""
        models = (self.manifest.get("spec") or {}).get("models") or []
        return {str(m.get("id")): m for m in models if isinstance(m, dict)}

    def model_href(self, model: str) -> str:
        """A model page's path, relative to the site's root."""
        return f"models/{self.slug}/{slug(model)}.html"

    def claim(self, model: str) -> Claim | None:
        """The model's ``claimed`` block, or None when it has none or it cannot be read."""
        raw = self.spec_models.get(model, {}).get("claimed")
        if not isinstance(raw, dict):
            return None
        acc, eps = raw.get("robust_accuracy"), raw.get("eps")
        if not isinstance(acc, numbers.Real) or not isinstance(eps, numbers.Real) or not math.isfinite(acc):
            return None
        return Claim(float(acc), str(raw.get("norm") or ""), float(eps), str(raw.get("source") or ""))


def open_run(run_dir: Path) -> SiteRun:
    """A run folder's leaderboard data and manifest; its slug tells apart two runs of one suite."""
    data = load_run(run_dir)
    return SiteRun(data, RunFolder(run_dir).manifest, slug(data.suite, str(run_dir.resolve())), (run_dir / "report.html").is_file())
