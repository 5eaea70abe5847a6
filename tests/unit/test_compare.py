"""The regression gate's comparison (bench.reporting.gate.compare): metric ids, the regression rule, and reading a run folder."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from helpers.gate import IDENTITY, ROWS, make_run

from bench.reporting.gate.compare import HIGHER, LOWER, Metric, RunIdentity, Snapshot, Tolerance, compare, metric_id, read_run
from bench.reporting.report.run_report import write_report
from bench.results.metrics import wilson
from bench.results.records import COLUMNS, shard_name, write_shard


def test_metric_ids_format_eps_with_g_and_inf():
    assert metric_id("robust_accuracy", "distilled", "pgd", "linf", 0.3) == "robust_accuracy/distilled/pgd/linf/0.3"
    assert metric_id("median_l2", "distilled", "cw", "l2", math.inf) == "median_l2/distilled/cw/l2/inf"
    assert metric_id("clean_accuracy", "baseline") == "clean_accuracy/baseline"


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
        frame = frame.assign(draws_correct=(frame["adv_pred"] == frame["label"]).astype(float))
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
