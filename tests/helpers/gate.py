"""Run folders holding only what the regression gate reads (manifest.json, summary.csv, clean.csv), and a baseline of one."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pandas as pd

from bench.results.tables import SUMMARY_COLUMNS
from helpers.cli import invoke

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


def write_baseline(tmp_path: Path) -> Path:
    """``bench baseline`` of a run folder ``make_run`` wrote under ``tmp_path/base``, in ``tmp_path/baselines/smoke.json``."""
    path = tmp_path / "baselines" / "smoke.json"
    res = invoke("baseline", make_run(tmp_path / "base"), "-o", path)
    assert res.exit_code == 0, res.output
    return path
