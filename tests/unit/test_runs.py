"""The runs a site shows (bench.reporting.site.runs): a model's claim is read defensively from the manifest."""

from __future__ import annotations

import json

import pytest
from helpers.leaderboard import model_records
from helpers.report_fixtures import records, run_folder

from bench.reporting.site.runs import Claim, open_run


@pytest.mark.parametrize(
    ("claimed", "expected"),
    [
        ({"robust_accuracy": 0.9, "norm": "linf", "eps": 0.3, "source": "Paper"}, Claim(0.9, "linf", 0.3, "Paper")),
        ({"robust_accuracy": 0.5, "norm": "l2", "eps": 1}, Claim(0.5, "l2", 1.0, "")),
        (None, None),  # a run from before bench knew the field, or a model without a claim
        ("92%", None),  # malformed: shown as absent, never a crash
        ({"robust_accuracy": "high", "eps": 0.3}, None),
        ({"robust_accuracy": 0.9}, None),
    ],
)
def test_a_claim_is_read_when_well_formed_and_absent_otherwise(tmp_path, claimed, expected):
    run = run_folder(tmp_path, "r", records(*model_records("m", 1)))
    manifest = json.loads((run / "manifest.json").read_text())
    if claimed is not None:
        manifest["spec"]["models"][0]["claimed"] = claimed
    (run / "manifest.json").write_text(json.dumps(manifest))
    site_run = open_run(run)
    assert site_run.claim("m") == expected and site_run.claim("unknown") is None
    assert site_run.model_href("m").startswith(f"models/{site_run.slug}/m-") and not site_run.has_report
