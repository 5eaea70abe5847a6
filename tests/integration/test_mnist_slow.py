"""Slow: the default suite on real MNIST, shortened (1 epoch, 100 samples). Run with `-m slow`.

Needs the MNIST IDX files under $BENCH_DATA_DIR/MNIST/raw (skipped otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bench.cli import cli

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_papernot_and_carlini_wagner_on_mnist(tmp_path):
    data = os.environ.get("BENCH_DATA_DIR")
    if not data or not (Path(data) / "MNIST" / "raw").is_dir():
        pytest.skip("needs MNIST under $BENCH_DATA_DIR")
    sets = [
        "dataset.eval_size=100",
        "models.baseline.train.epochs=1",
        "models.teacher.train.epochs=1",
        "models.distilled.train.epochs=1",
        "attacks.jsma.n_samples=50",
        "attacks.ta-cw.n_samples=20",
    ]
    args = ["run", str(ROOT / "suites" / "mnist.yaml"), "--out", str(tmp_path), "-q"] + sum((["--set", s] for s in sets), [])
    res = CliRunner().invoke(cli, args, env={"BENCH_CACHE_DIR": str(tmp_path / "store")})
    assert res.exit_code == 0, res.output
    s = pd.read_csv(tmp_path / "mnist" / "summary.csv").set_index(["model", "attack", "eps"])
    asr = s["attack_success_rate"]
    assert asr[("baseline", "fgsm", 0.3)] > 0.6
    assert asr[("distilled", "fgsm", 0.3)] < 0.2, "naive FGSM fails on the distilled net (Papernot)"
    assert asr[("distilled", "cw", float("inf"))] >= 0.97, "C&W defeats distillation (Carlini & Wagner)"
    assert asr[("baseline", "cw", float("inf"))] >= 0.97
    flags = pd.read_csv(tmp_path / "mnist" / "flags.csv")
    verdict = flags[flags["check"] == "gradient-masking"].set_index("model")["verdict"]
    assert verdict["distilled"] == "fail" and verdict["baseline"] == "pass"
