"""bench check (bench.commands.check, with the gate's outputs in bench.reporting.gate.output), on hand-built run folders.

What it prints, its JUnit file and job summary, its refusals, and its options.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers.cli import invoke
from helpers.gate import ROWS, edit, make_run, write_baseline

from bench.results.metrics import wilson


@pytest.fixture
def baseline_file(tmp_path: Path) -> Path:
    return write_baseline(tmp_path)


def test_identical_run_passes(tmp_path, baseline_file):
    res = invoke("check", make_run(tmp_path / "cur"), "--baseline", baseline_file)
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("passed: 15 ok (15 metrics)")
    # Only rows that are not ok are printed: a passing check is a few lines, not 15 (or 77) rows.
    assert res.output.startswith("every metric is within tolerance of the baseline\n(15 ok metrics not shown; --all shows every metric)")
    assert "regressed" not in res.output and "bench baseline" not in res.output
    every = invoke("check", make_run(tmp_path / "cur2"), "--baseline", baseline_file, "--all")
    assert sum(line.split()[0].startswith(("clean_", "robust_", "attack_", "median_")) for line in every.output.splitlines()) == 15
    quiet = invoke("check", make_run(tmp_path / "cur3"), "--baseline", baseline_file, "-q")
    assert quiet.exit_code == 0 and quiet.output == "passed: 15 ok (15 metrics)\n"


def test_degraded_run_fails_naming_the_metrics(tmp_path, baseline_file):
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.60)
    rows = edit(rows, "worst_case", 0.1, attack_success_rate=0.0)  # 10 of 170 -> 0: below the interval and the tolerance
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file)
    assert res.exit_code == 1, res.output
    table = {line.split()[0]: line for line in res.output.splitlines() if "/" in line.split(" ")[0]}
    assert table["robust_accuracy/distilled/pgd/linf/0.3"].endswith("regressed  defence weaker")
    assert table["attack_success_rate/distilled/worst_case/linf/0.1"].endswith("regressed  attack weaker")
    assert "robust_accuracy/distilled/pgd/linf/0.1" not in table, "ok rows are not printed by default"
    assert "regressed: attack_success_rate/distilled/worst_case/linf/0.1, robust_accuracy/distilled/pgd/linf/0.3" in res.output
    assert "FAILED: 2 regressed, 13 ok (15 metrics)" in res.output
    assert "bench baseline" not in res.output, "a failed gate never suggests recording a new baseline"
    quiet = invoke("check", make_run(tmp_path / "cur2", rows=rows), "--baseline", baseline_file, "-q")
    assert quiet.exit_code == 1 and quiet.output == "FAILED: 2 regressed, 13 ok (15 metrics)\n"


def test_weaker_attack_is_a_regression_even_though_robust_accuracy_rises(tmp_path, baseline_file):
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.84, attack_success_rate=0.0118)
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file)
    assert res.exit_code == 1
    assert "regressed: attack_success_rate/distilled/pgd/linf/0.3" in res.output
    table = {line.split()[0]: line for line in res.output.splitlines() if "/" in line.split(" ")[0]}
    # Each side says who gained; the pairing is explained, and nobody is told to refresh the baseline.
    assert table["attack_success_rate/distilled/pgd/linf/0.3"].endswith("regressed  attack weaker")
    assert table["robust_accuracy/distilled/pgd/linf/0.3"].endswith("changed    defence stronger")
    assert (
        "why: robust_accuracy/distilled/pgd/linf/0.3 rose because pgd got weaker on distilled (linf eps 0.3: its success rate fell); "
        "that is the attack failing, not evidence of a stronger defence" in res.output
    )
    assert "improved" not in res.output and "bench baseline" not in res.output


def test_noise_inside_the_wilson_interval_passes(tmp_path, baseline_file):
    lo, hi = wilson(152, 200)
    assert lo < 0.73 < 0.76 - 0.02  # worse than the tolerance, yet not resolvable with 200 samples
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.73)
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file)
    assert res.exit_code == 0, res.output
    assert "passed: 15 ok" in res.output


def test_missing_and_new_metrics_are_reported(tmp_path, baseline_file):
    rows = [r for r in ROWS if r[1] != "cw"] + [("distilled", "fgsm", "linf", 0.3, 200, 0.85, 0.8, 0.0588, math.nan)]
    xml_path = tmp_path / "check.xml"
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file, "--junit", xml_path)
    assert res.exit_code == 1, res.output
    missing = ["attack_success_rate/distilled/cw/l2/inf", "median_l2/distilled/cw/l2/inf", "robust_accuracy/distilled/cw/l2/inf"]
    assert f"missing: {', '.join(missing)}" in res.output
    assert "FAILED: 3 missing, 2 new, 12 ok (17 metrics)" in res.output
    suite = ET.parse(xml_path).getroot()
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert suite.get("tests") == "17" and suite.get("failures") == "3" and suite.get("skipped") == "2"
    assert cases["median_l2/distilled/cw/l2/inf"].find("failure").get("type") == "missing"
    assert cases["robust_accuracy/distilled/fgsm/linf/0.3"].find("skipped") is not None
    assert cases["clean_accuracy/baseline"].find("failure") is None and cases["clean_accuracy/baseline"].find("skipped") is None


def test_junit_has_one_testcase_per_metric_and_fails_regressions(tmp_path, baseline_file):
    xml_path = tmp_path / "out" / "check.xml"
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.60)
    invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file, "--junit", xml_path)
    suite = ET.parse(xml_path).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "15" and suite.get("failures") == "1"
    names = [c.get("name") for c in suite.iter("testcase")]
    assert len(names) == 15 and names == sorted(names)
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["robust_accuracy/distilled/pgd/linf/0.3"]
    failure = next(c for c in suite.iter("testcase") if c.find("failure") is not None).find("failure")
    assert "baseline 0.7600, current 0.6000" in failure.get("message")


def test_step_summary_gets_markdown(tmp_path, baseline_file):
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n")
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.60)
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.exit_code == 1
    md = summary.read_text()
    assert md.startswith("# earlier step\n## bench check: smoke")
    assert "**FAILED: 1 regressed, 14 ok (15 metrics)**" in md
    assert "| metric | baseline | current | delta | interval | status |" in md
    assert "| `robust_accuracy/distilled/pgd/linf/0.3` | 0.7600 | 0.6000 | -0.1600 |" in md
    assert "<details><summary>All 15 metrics</summary>" in md


def test_step_summary_untouched_without_the_variable(tmp_path, baseline_file, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    res = invoke("check", make_run(tmp_path / "cur"), "--baseline", baseline_file)
    assert res.exit_code == 0 and "##" not in res.output


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ({"spec_hash": "b" * 64}, "spec hash differs (baseline aaaaaaaaaaaa, run bbbbbbbbbbbb); pass --allow-spec-change"),
        ({"data": {"eval_fingerprint": "9" * 64}}, "dataset eval fingerprint differs (baseline eeeeeeeeeeee, run 999999999999)"),
        ({"data": {"fingerprint": "8" * 64}}, "dataset fingerprint differs (baseline ffffffffffff, run 888888888888)"),
        ({"data": {"name": "mnist"}}, "dataset differs (baseline digits, run mnist)"),
    ],
)
def test_incomparable_runs_are_refused_with_exit_2(tmp_path, baseline_file, identity, message):
    xml_path = tmp_path / "check.xml"
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    res = invoke("check", make_run(tmp_path / "cur", **identity), "--baseline", baseline_file, "--junit", xml_path, env=env)
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and res.output.startswith("error: cannot compare the run with the baseline: ")
    assert message in res.output
    # The refusal reaches CI's test reporter as one error case that says why, and the job summary.
    suite = ET.parse(xml_path).getroot()
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    (case,) = suite.iter("testcase")
    assert message in case.find("error").get("message")
    assert "not compared (exit code 2)" in summary.read_text() and message in summary.read_text()


def test_a_refusal_hint_only_suggests_what_would_work(tmp_path, baseline_file):
    spec_only = invoke("check", make_run(tmp_path / "a", spec_hash="b" * 64), "--baseline", baseline_file)
    assert "pass --allow-spec-change to compare anyway" in spec_only.output
    both = invoke("check", make_run(tmp_path / "b", spec_hash="b" * 64, data={"fingerprint": "0" * 64}), "--baseline", baseline_file)
    assert both.exit_code == 2 and "--allow-spec-change" not in both.output
    assert "the run evaluated other data than the baseline" in both.output


def test_junit_is_written_when_a_file_is_unusable(tmp_path):
    xml_path = tmp_path / "check.xml"
    res = invoke("check", make_run(tmp_path), "--baseline", tmp_path / "nope.json", "--junit", xml_path)
    assert res.exit_code == 2
    error = ET.parse(xml_path).getroot().find("testcase/error")
    assert error.get("type") == "not-compared" and "no such baseline file" in error.get("message")


def test_threat_model_change_is_refused(tmp_path, baseline_file):
    rows = [r for r in ROWS if r[2] != "l2"]
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file, "--allow-spec-change")
    assert res.exit_code == 2
    assert "threat models differ (baseline l2, linf; run linf)" in res.output


def test_allow_spec_change_overrides_only_the_spec_hash(tmp_path, baseline_file):
    res = invoke("check", make_run(tmp_path / "cur", spec_hash="b" * 64), "--baseline", baseline_file, "--allow-spec-change")
    assert res.exit_code == 0, res.output
    assert "note: spec changed (baseline aaaaaaaaaaaa, run bbbbbbbbbbbb)" in res.output
    other_data = make_run(tmp_path / "cur2", spec_hash="b" * 64, data={"fingerprint": "0" * 64})
    res = invoke("check", other_data, "--baseline", baseline_file, "--allow-spec-change")
    assert res.exit_code == 2 and "dataset fingerprint differs" in res.output and "spec hash" not in res.output


def test_metric_globs_filter_the_comparison(tmp_path, baseline_file):
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.60)
    run_dir = make_run(tmp_path / "cur", rows=rows)
    res = invoke("check", run_dir, "--baseline", baseline_file, "--metric", "clean_accuracy/*", "--metric", "*/cw/*")
    assert res.exit_code == 0, res.output
    assert "passed: 5 ok (5 metrics)" in res.output
    res = invoke("check", run_dir, "--baseline", baseline_file, "--metric", "robust_accuracy/*/pgd/*")
    assert res.exit_code == 1 and "1 regressed, 1 ok (2 metrics)" in res.output
    res = invoke("check", run_dir, "--baseline", baseline_file, "--metric", "robust_acuracy/*")
    assert res.exit_code == 2 and "--metric robust_acuracy/*: matches no metric id" in res.output


def test_tolerance_option_widens_the_gate(tmp_path, baseline_file):
    rows = edit(ROWS, "pgd", 0.3, robust_accuracy=0.60)
    res = invoke("check", make_run(tmp_path / "cur", rows=rows), "--baseline", baseline_file, "--tolerance", "0.2")
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such baseline file; write one with `bench baseline RUN_DIR -o"),
        ("{not json", "not a readable baseline file (JSONDecodeError)"),
        ('{"format": 99}', "unsupported baseline format 99"),
        ('{"format": 1, "run": {}}', "malformed baseline file"),
    ],
)
def test_unusable_baseline_file_is_exit_2(tmp_path, content, message):
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    res = invoke("check", make_run(tmp_path), "--baseline", path)
    assert res.exit_code == 2 and message in res.output
