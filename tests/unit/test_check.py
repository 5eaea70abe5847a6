"""The regression gate: baselines, the regression rule, refusals, and the CLI's outputs, on hand-built run folders."""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.reporting.gate.compare import HIGHER, LOWER, Metric, RunIdentity, Snapshot, Tolerance, compare, metric_id, read_run
from bench.reporting.report.run_report import write_report
from bench.results.metrics import wilson
from bench.results.records import COLUMNS, shard_name, write_shard
from bench.results.tables import SUMMARY_COLUMNS

IDENTITY = {"suite": "smoke", "spec_hash": "a" * 64, "data": {"name": "digits", "fingerprint": "f" * 64, "eval_fingerprint": "e" * 64}}

# (model, attack, norm, eps, n_samples, clean_accuracy, robust_accuracy, attack_success_rate, median_l2)
ROWS = [
    ("distilled", "pgd", "linf", 0.1, 200, 0.85, 0.80, 0.0588, math.nan),
    ("distilled", "pgd", "linf", 0.3, 200, 0.85, 0.76, 0.1059, math.nan),
    ("distilled", "cw", "l2", math.inf, 100, 0.82, 0.0, 1.0, 0.6281),
    ("distilled", "worst_case", "l2", math.inf, 100, 0.82, 0.0, 1.0, math.nan),
    ("distilled", "worst_case", "linf", 0.1, 200, 0.85, 0.80, 0.0588, math.nan),
    ("distilled", "worst_case", "linf", 0.3, 200, 0.85, 0.76, 0.1059, math.nan),
]
CLEAN = [("baseline", 200, 0.9), ("distilled", 200, 0.85)]


def make_run(root: Path, rows=ROWS, clean=CLEAN, status: str = "complete", **identity) -> Path:
    """A run folder holding only what the gate reads: manifest.json, summary.csv, clean.csv."""
    run_dir = root / "smoke"
    (run_dir / "records").mkdir(parents=True)  # what makes it a run folder; the gate reads no shard
    manifest = {**IDENTITY, "status": status, "versions": {"bench": "0.1.0"}}
    manifest.update({k: v for k, v in identity.items() if k != "data"})
    manifest["data"] = {**IDENTITY["data"], **identity.get("data", {})}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    with (run_dir / "summary.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, SUMMARY_COLUMNS)
        w.writeheader()
        for model, attack, norm, eps, n, acc, rob, asr, med in rows:
            # The rows give rates; a real summary.csv also holds the counts behind them, which the gate reads.
            correct = round(acc * n) if n else 0
            w.writerow(
                {
                    "model": model,
                    "attack": attack,
                    "norm": norm,
                    "eps": eps,
                    "n_samples": n,
                    "n_correct": correct,
                    "n_robust": round(rob * n) if n else 0,
                    "n_success": round(asr * correct) if correct else 0,
                    "clean_accuracy": acc,
                    "robust_accuracy": rob,
                    "attack_success_rate": asr,
                    "median_l2": "" if math.isnan(med) else med,
                }
            )
    frame = pd.DataFrame(clean, columns=["model", "n_samples", "clean_accuracy"])
    frame.insert(2, "n_correct", (frame["clean_accuracy"] * frame["n_samples"]).round().astype(int))
    frame.to_csv(run_dir / "clean.csv", index=False)
    return run_dir


def edit(rows, attack: str, eps: float, **changes):
    """ROWS with one row's robust accuracy / success rate / median replaced."""
    index = {"robust_accuracy": 6, "attack_success_rate": 7, "median_l2": 8}
    out = []
    for row in rows:
        row = list(row)
        if row[1] == attack and row[3] == eps:
            for name, value in changes.items():
                row[index[name]] = value
        out.append(tuple(row))
    return out


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture
def baseline_file(tmp_path: Path) -> Path:
    path = tmp_path / "baselines" / "smoke.json"
    res = invoke("baseline", make_run(tmp_path / "base"), "-o", path)
    assert res.exit_code == 0, res.output
    return path


def test_metric_ids_format_eps_with_g_and_inf():
    assert metric_id("robust_accuracy", "distilled", "pgd", "linf", 0.3) == "robust_accuracy/distilled/pgd/linf/0.3"
    assert metric_id("median_l2", "distilled", "cw", "l2", math.inf) == "median_l2/distilled/cw/l2/inf"
    assert metric_id("clean_accuracy", "baseline") == "clean_accuracy/baseline"


def test_baseline_file_is_sorted_rounded_and_counts_samples(tmp_path, baseline_file):
    text = baseline_file.read_text()
    body = json.loads(text)
    assert text == json.dumps(body, indent=2, sort_keys=True) + "\n"
    assert body["run"] == {
        "suite": "smoke",
        "spec_hash": "a" * 64,
        "dataset": "digits",
        "fingerprint": "f" * 64,
        "eval_fingerprint": "e" * 64,
        "threat_models": ["l2", "linf"],
        "bench_version": "0.1.0",
    }
    m = body["metrics"]
    # 2 clean + 6 rows x (robust, success) + 1 median of the one min-norm attack; none for worst_case.
    assert len(m) == 2 + 12 + 1
    # Each rate keeps the count behind it (k of n), so the gate's interval needs no rounding back from the rate.
    assert m["clean_accuracy/distilled"] == {"value": 0.85, "n": 200, "k": 170, "direction": HIGHER}
    assert m["robust_accuracy/distilled/worst_case/linf/0.3"] == {"value": 0.76, "n": 200, "k": 152, "direction": HIGHER}
    # Success rates count only the clean-correct samples: 170 of them.
    assert m["attack_success_rate/distilled/pgd/linf/0.3"] == {"value": 0.1059, "n": 170, "k": 18, "direction": HIGHER}
    # The median is over the samples the attack broke: 82 of 100 correct, all broken.
    assert m["median_l2/distilled/cw/l2/inf"] == {"value": 0.6281, "n": 82, "direction": LOWER}
    again = tmp_path / "again.json"
    invoke("baseline", tmp_path / "base" / "smoke", "-o", again)
    assert again.read_text() == text


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


def test_rule_needs_both_tolerance_and_interval():
    ident = RunIdentity("s", "h", "d", "f", "e", ("linf",), "0")
    base = Snapshot(ident, {"attack_success_rate/m/a/linf/0.1": Metric(1.0, 1000, HIGHER)})

    def status(value: float, n: int = 1000, tol: float = 0.02) -> str:
        cur = Snapshot(ident, {"attack_success_rate/m/a/linf/0.1": Metric(value, n, HIGHER)})
        return compare(base, cur, Tolerance(rate=tol))[0].status

    assert wilson(1000, 1000)[0] > 0.99  # 0.985 is outside the interval ...
    assert status(0.985) == "ok"  # ... but within the tolerance
    assert status(0.97) == "regressed"
    assert status(0.985, tol=0.01) == "regressed"
    assert status(0.98) == "ok"  # exactly the tolerance is not more than it


def test_median_norm_uses_a_relative_tolerance():
    ident = RunIdentity("s", "h", "d", "f", "e", ("l2",), "0")
    key = "median_l2/m/cw/l2/inf"
    base = Snapshot(ident, {key: Metric(0.5, 80, LOWER)})

    def status(value: float) -> str:
        return compare(base, Snapshot(ident, {key: Metric(value, 80, LOWER)}), Tolerance(norm=0.1))[0].status

    assert [status(v) for v in (0.5, 0.54, 0.56, 0.46, 0.44)] == ["ok", "ok", "regressed", "ok", "changed"]


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
    ("setup", "message"),
    [
        (lambda d: (d / "smoke").mkdir(), "not a bench run folder (no records/ folder"),
        (lambda d: (make_run(d) / "summary.csv").unlink(), "no summary.csv; run `bench report"),
    ],
)
def test_unusable_run_folder_is_exit_2(tmp_path, setup, message):
    setup(tmp_path)
    res = invoke("baseline", tmp_path / "smoke", "-o", tmp_path / "b.json")
    assert res.exit_code == 2 and message in res.output


def test_baseline_refuses_an_unfinished_run(tmp_path):
    res = invoke("baseline", make_run(tmp_path, status="failed"), "-o", tmp_path / "b.json")
    assert res.exit_code == 2 and "status is 'failed'" in res.output
    assert not (tmp_path / "b.json").exists()


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


def test_reads_what_write_report_writes(tmp_path):
    # Guards the gate against drift in the real summary.csv / clean.csv format.
    run_dir = tmp_path / "smoke"
    n = 20
    label = np.arange(n) % 10
    clean_pred = np.where(np.arange(n) < 18, label, (label + 1) % 10)  # 18 of 20 correct
    base = {
        "model": "m",
        "use": "",
        "view": "logits",
        "tag": "naive",
        "source": "",
        "sample": np.arange(n),
        "sample_hash": [f"h{i}" for i in range(n)],
        "label": label,
        "clean_pred": clean_pred,
        "l0": 0.0,
        "l2": 0.0,
        "linf": 0.0,
        "projected": False,
        "seconds": 0.0,
    }
    ok = clean_pred == label
    broken = ok & (np.arange(n) < 9)  # the attack breaks 9 of the 18
    clean = pd.DataFrame(
        {**base, "attack": "clean", "kind": "clean", "norm": "linf", "eps": 0.0, "adv_pred": clean_pred, "success": False, "robust": ok}
    )
    cw = pd.DataFrame(
        {
            **base,
            "attack": "cw",
            "use": "bench.cw_l2",
            "kind": "min_norm",
            "norm": "l2",
            "eps": math.inf,
            "adv_pred": np.where(broken, (label + 1) % 10, clean_pred),
            "success": broken,
            "robust": ok & ~broken,
            "l2": np.where(broken, np.linspace(0.1, 0.9, n), 0.0),
        }
    )
    fgsm = pd.DataFrame(
        {
            **base,
            "attack": "fgsm",
            "use": "torchattacks.fgsm",
            "kind": "fixed_eps",
            "norm": "linf",
            "eps": 0.1,
            "adv_pred": clean_pred,
            "success": False,
            "robust": ok,
            "linf": 0.1,
        }
    )
    # An adaptive attack at fgsm's budget too: bench.results.flags currently fails on runs without a naive/adaptive pair.
    pgd = fgsm.assign(attack="pgd", use="torchattacks.pgd", tag="adaptive")
    for frame in (clean, cw, fgsm, pgd):
        write_shard(run_dir / "records" / shard_name("m", frame["attack"][0], "k" * 16), frame[list(COLUMNS)])
    (run_dir / "manifest.json").write_text(json.dumps({**IDENTITY, "status": "complete", "versions": {"bench": "0.1.0"}}))
    write_report(run_dir)
    snap = read_run(run_dir)
    assert snap.identity.threat_models == ("l2", "linf")
    assert snap.metrics["robust_accuracy/m/fgsm/linf/0.1"] == Metric(0.9, 20, HIGHER, 18)
    assert snap.metrics["attack_success_rate/m/fgsm/linf/0.1"] == Metric(0.0, 18, HIGHER, 0)
    assert not any(k.startswith("median_linf/") for k in snap.metrics)  # fixed-eps attacks have no minimal norm
    assert snap.metrics["clean_accuracy/m"] == Metric(0.9, 20, HIGHER, 18)
    assert snap.metrics["robust_accuracy/m/cw/l2/inf"] == Metric(0.45, 20, HIGHER, 9)
    assert snap.metrics["attack_success_rate/m/cw/l2/inf"] == Metric(0.5, 18, HIGHER, 9)
    assert snap.metrics["robust_accuracy/m/worst_case/l2/inf"] == Metric(0.45, 20, HIGHER, 9)
    assert snap.metrics["median_l2/m/cw/l2/inf"] == Metric(round(float(np.median(np.linspace(0.1, 0.9, n)[:9])), 4), 9, LOWER)


def test_blank_cells_are_left_out_not_crashed_on(tmp_path):
    rows = ROWS + [("baseline", "cw", "l2", math.inf, 0, math.nan, math.nan, math.nan, math.nan)]
    snap = read_run(make_run(tmp_path, rows=rows))
    assert not any(k.split("/")[1] == "baseline" and "/cw/" in k for k in snap.metrics)
    assert len(snap.metrics) == 15


def test_summary_without_needed_columns_is_exit_2(tmp_path):
    run_dir = make_run(tmp_path)
    (run_dir / "summary.csv").write_text("model,attack\nm,a\n")
    res = invoke("baseline", run_dir, "-o", tmp_path / "b.json")
    assert res.exit_code == 2
    assert (
        "summary.csv: lacks columns norm, eps, n_samples, n_correct, n_robust, n_success, robust_accuracy, attack_success_rate"
        in res.output
    )
