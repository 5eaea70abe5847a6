"""bench baseline (bench.commands.baseline): the baseline file it writes, and the run folders it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import invoke
from helpers.gate import make_run, write_baseline

from bench.reporting.gate.compare import HIGHER, LOWER


@pytest.fixture
def baseline_file(tmp_path: Path) -> Path:
    return write_baseline(tmp_path)


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


def test_summary_without_needed_columns_is_exit_2(tmp_path):
    run_dir = make_run(tmp_path)
    (run_dir / "summary.csv").write_text("model,attack\nm,a\n")
    res = invoke("baseline", run_dir, "-o", tmp_path / "b.json")
    assert res.exit_code == 2
    assert (
        "summary.csv: lacks columns norm, eps, n_samples, n_correct, n_robust, n_success, robust_accuracy, attack_success_rate"
        in res.output
    )
