"""Claimed vs measured (bench.reporting.report.claims): a paper's number beside bench's, in the report and the leaderboard."""

from __future__ import annotations

import json
import math

import pytest
from helpers.leaderboard import two_runs

from bench.reporting.leaderboard.board import build_leaderboards, load_run, render
from bench.reporting.report.claims import claim_text, read_claims
from bench.reporting.report.run_report import write_report
from bench.spec.schema import ClaimedSpec

HOSTILE = "<script>alert(1)</script> & Co. 100% of_x \\cite{a} #1 $5 {b} ~c ^d"


def claim(run, model, **fields):
    """Give ``model`` of the run folder ``run`` a claim in its manifest's spec, as `bench run` would have stored it."""
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    for m in manifest["spec"]["models"]:
        if m["id"] == model:
            m["claimed"] = {"robust_accuracy": 0.9, "norm": "linf", "eps": 0.3, "source": HOSTILE} | fields
    path.write_text(json.dumps(manifest))


def test_claims_are_read_from_the_manifest_spec_and_a_spec_without_them_has_none():
    spec = {"models": [{"id": "a", "claimed": {"robust_accuracy": 0.9, "norm": "linf", "eps": 8 / 255, "source": "paper"}}, {"id": "b"}]}
    assert read_claims(spec) == {"a": ClaimedSpec(robust_accuracy=0.9, norm="linf", eps=8 / 255, source="paper")}
    assert read_claims(None) == {} and read_claims({"models": [{"id": "a"}]}) == {}
    assert claim_text(read_claims(spec)["a"]) == "90.0% at L∞ eps 8/255 (paper)"


def test_the_report_shows_the_claim_beside_the_measured_worst_case_and_escapes_it(tmp_path):
    one, _ = two_runs(tmp_path)
    claim(one, "a")
    write_report(one)
    md = (one / "report.md").read_text()
    # a's worst case over every linf attack at 0.3 is 1/4 (docs of helpers.leaderboard): far below its claimed 90%.
    assert "## Claimed vs measured" in md
    assert "| a | 90.0% | L∞ eps 0.3 | 25.0% [4.6, 69.9] | -65.0 pts |" in md
    assert "90.0% at L∞ eps 0.3 (" in md.split("## At a glance")[1].split("##")[0], "the glance has the claim column"
    html = (one / "report.html").read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co." in html
    # The whole interval lies below the claim: the row is marked.
    assert '<tr class="fail"><td class="model">a</td><td class="claimed">90.0%</td>' in html


def test_the_leaderboard_shows_the_claim_and_ranks_as_without_it(tmp_path):
    one, two = two_runs(tmp_path)
    before = build_leaderboards([load_run(one), load_run(two)])[0].frame
    claim(one, "a", eps="8/255", source="Madry & al.")
    (board,) = build_leaderboards([load_run(one), load_run(two)])
    f = board.frame.set_index("model")
    assert (f.loc["a", "claimed"], f.loc["a", "claimed_norm"], f.loc["a", "claimed_source"]) == (0.9, "linf", "Madry & al.")
    assert f.loc["a", "claimed_eps"] == pytest.approx(8 / 255) and math.isnan(f.loc["b", "claimed"])
    assert board.frame[["model", "rank", "worst_case"]].equals(before[["model", "rank", "worst_case"]])
    md = render([board], "md")
    assert "| worst case | claimed |" in md and "| 25.0% [4.6, 69.9] | 90.0% at L∞ eps 8/255 (Madry & al.) |" in md
    html = render([board], "html")
    assert "90.0% at L∞ eps 8/255 (Madry &amp; al.)" in html and "(Madry & al.)" not in html
    claim(one, "a")
    assert "<script>" not in render(build_leaderboards([load_run(one), load_run(two)]), "html")


def test_a_leaderboard_without_claims_has_no_claimed_column(tmp_path):
    md = render(build_leaderboards([load_run(r) for r in two_runs(tmp_path)]), "md")
    assert "claimed" not in md
