"""The worked example in examples/bench-example: installed, its plug-ins show in `bench ls` and run end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.attacks import ATTACKS
from bench.catalogue.datasets import DATASETS
from bench.commands.run import run_and_report
from bench.pipeline.runner import RunOptions
from bench.spec.load import load_suite

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bench-example"
ORIGIN = "bench-example 0.1.0 (entry point)"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`pip install` of the example (from a copy, so the source tree stays clean) into a folder of its own."""
    base = tmp_path_factory.mktemp("example")
    shutil.copytree(EXAMPLE, base / "src", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = base / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", "--target", str(target)]
    out = subprocess.run([*cmd, str(base / "src")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return target


def bench(site: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bench ...` in a fresh process that sees the installed example (and this checkout of bench)."""
    path = os.pathsep.join([str(site), str(ROOT)])
    full = dict(os.environ, PYTHONPATH=path, BENCH_OFFLINE="1", OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=cwd, env=full, timeout=900)


def test_an_installed_plugin_package_is_listed_with_its_origin_and_runs_end_to_end(installed, tmp_path):
    for what, key in (("attacks", "example.bim"), ("architectures", "example-gated-mlp"), ("datasets", "example-stripes")):
        res = bench(installed, "ls", what, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        line = next(line for line in res.stdout.splitlines() if line.split()[0] == key)
        assert line.endswith(f"[{ORIGIN}]"), line
    assert "[bench]" in bench(installed, "ls", "attacks", cwd=tmp_path).stdout

    res = bench(
        installed,
        "run",
        str(EXAMPLE / "suite.yaml"),
        "--out",
        str(tmp_path / "out"),
        "-q",
        cwd=tmp_path,
        env={"BENCH_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert res.returncode == 0, res.stderr
    run_dir = tmp_path / "out" / "example"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["origins"]["datasets"] == {"example-stripes": ORIGIN}
    assert manifest["origins"]["architectures"] == {"example-gated-mlp": ORIGIN}
    assert manifest["origins"]["attacks"] == {"example.bim": ORIGIN, "bench.pgd_margin": "bench"}
    clean = pd.read_csv(run_dir / "clean.csv").set_index("model")
    assert clean.loc["baseline", "n_samples"] == 200 and clean.loc["baseline", "clean_accuracy"] > 0.9
    summary = pd.read_csv(run_dir / "summary.csv")
    bim = summary[(summary["attack"] == "bim")].set_index("eps")
    rates = bim["attack_success_rate"].tolist()
    assert list(bim.index) == [0.05, 0.1, 0.2] and 0 < rates[0] < rates[1] < rates[2], rates
    # An attack of no listed family is a family of its own: the checks that rely on roles leave it alone.
    assert (summary["use"] == "example.bim").any()


def test_the_attack_contract_runs_on_the_plugin_attack(installed, tmp_path):
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rA",
        str(ROOT / "tests" / "contract"),
        "--attack",
        "example.bim",
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(installed), str(ROOT)]))
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:]
    passed = [line for line in out.stdout.splitlines() if line.startswith("PASSED")]
    for case in (
        "test_contract[example.bim-linf]",
        "test_every_attack_actually_attacks[example.bim-linf]",
        "test_zero_budget_returns_the_input[example.bim]",
    ):
        assert any(case in line for line in passed), case
    assert not any("torchattacks" in line for line in passed), "--attack selects only the plug-in's cases"


@pytest.fixture
def example_on_path(monkeypatch):
    """The example's source on sys.path, not installed; its keys and modules are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    yield
    ARCHITECTURES.unregister("example-gated-mlp")
    DATASETS.unregister("example-stripes")
    ATTACKS.unregister("example.bim")
    for name in [m for m in sys.modules if m.startswith("bench_example")]:
        sys.modules.pop(name)


def test_a_suite_can_name_the_plugin_module_instead(example_on_path, tmp_path):
    spec = load_suite(EXAMPLE / "suite.yaml", ["plugins=[bench_example.plugin]", "models.baseline.train.epochs=3", "attacks.bim.eps=[0.1]"])
    run_dir = run_and_report(spec, RunOptions(out=tmp_path / "out", store_root=tmp_path / "store"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    origin = "plugin module bench_example.plugin"
    assert manifest["origins"]["attacks"]["example.bim"] == origin
    assert manifest["origins"]["architectures"] == {"example-gated-mlp": origin}
    assert manifest["origins"]["plugins"] == {"bench_example.plugin": str(EXAMPLE / "src" / "bench_example" / "plugin.py")}
    assert manifest["spec"]["plugins"] == ["bench_example.plugin"]
    report = (run_dir / "report.md").read_text()
    assert f"example-stripes ({origin}); example-gated-mlp ({origin}); example.bim ({origin})" in report, "the report names them too"
