"""What a new user trips over, end to end on a small digits suite: verdicts in plain sight, variants that never
overwrite, files the group can read."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bench.cli import cli

# A C&W with one value of c and 3 iterations: without a budget it breaks far fewer than 90% of the samples.
WEAK = {
    "name": "weak",
    "dataset": {"name": "digits", "eval_size": 60},
    "models": [{"id": "base", "kind": "baseline", "arch": "tiny-mlp", "train": {"epochs": 5, "batch_size": 64, "lr": 0.01}}],
    "attacks": [
        {"id": "fgsm", "use": "torchattacks.fgsm", "eps": ["8/255", 0.1]},
        {"id": "pgd", "use": "torchattacks.pgd", "params": {"steps": 5}, "eps": ["8/255", 0.1]},
        {"id": "pgdm", "use": "bench.pgd_margin", "params": {"steps": 5}, "eps": [0.1]},
        {"id": "cw", "use": "bench.cw_l2", "params": {"binary_search_steps": 1, "max_iter": 3}, "n_samples": 30},
    ],
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The weak suite on disk and one model store for every run of this module (the model is trained once)."""
    base = tmp_path_factory.mktemp("newcomer")
    (base / "weak.yaml").write_text(yaml.safe_dump(WEAK))
    return {"dir": base, "spec": str(base / "weak.yaml"), "env": {"BENCH_CACHE_DIR": str(base / "store"), "BENCH_OFFLINE": "1"}}


def bench(env, *args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env["env"])


def origins(run_dir: Path) -> dict[str, str]:
    return {name: c["origin"] for name, c in json.loads((run_dir / "manifest.json").read_text())["cells"].items()}


def test_a_weak_cw_shows_its_failed_sanity_check_in_the_terminal_and_the_leaderboard(env):
    out = env["dir"] / "verdicts"
    res = bench(env, "run", env["spec"], "--out", out)
    assert res.exit_code == 0, res.output
    run_dir = out / "weak"
    # The model's line says it is unreliable and why; the failed check follows with its message.
    line = next(line for line in res.stderr.splitlines() if line.startswith("base "))
    assert line.split()[2:] == ["NO", "masking", "pass;", "sanity", "fail:", "unbounded-incomplete", "(cw)"]
    assert "  fail  base: unbounded-incomplete (cw): cw succeeds on" in res.stderr
    assert "cells: 5 computed, 0 reused from earlier runs; models: 1 trained" in res.stderr
    board = bench(env, "leaderboard", run_dir)
    assert board.exit_code == 0
    row = next(line for line in board.stdout.splitlines() if "| base |" in line)
    assert row.startswith("| – | base |") and "| yes: sanity fail: unbounded-incomplete (cw) |" in row
    report = (run_dir / "summary.md").read_text().split("## Verdicts")[1].split("## ")[0]
    assert "| base | no | pass | sanity fail: unbounded-incomplete (cw) |" in report

    # A cached run says so.
    again = bench(env, "run", env["spec"], "--out", out)
    assert "cells: 0 computed, 5 reused from earlier runs; models: 1 from the store" in again.stderr

    # --strict (or `strict: true` in the suite) turns the failed check into exit code 1, the run folder still last.
    strict = bench(env, "run", env["spec"], "--out", out, "-q", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.startswith("error: 1 check(s) failed (--strict):\n  - base: unbounded-incomplete (cw): cw succeeds on")
    assert strict.stdout.strip() == str(run_dir)
    lenient_hash = json.loads((run_dir / "manifest.json").read_text())["spec_hash"]
    option = bench(env, "run", env["spec"], "--out", out, "-q", "--set", "strict=true")
    assert option.exit_code == 1 and "check(s) failed (--strict)" in option.stderr
    assert json.loads((run_dir / "manifest.json").read_text())["spec_hash"] == lenient_hash, "strictness is not a variant"


def test_alternating_two_variants_recomputes_nothing_the_second_time_and_loses_no_record(env):
    out = env["dir"] / "variants"
    run_dir = out / "weak"
    a, b = [], ["--set", "attacks.pgd.params.steps=3"]
    first: dict[str, tuple[dict[str, str], str]] = {}
    for name, sets in [("a", a), ("b", b)]:
        res = bench(env, "run", env["spec"], "--out", out, *sets)
        assert res.exit_code == 0, res.output
        first[name] = (origins(run_dir), (run_dir / "summary.csv").read_text())
        if name == "b":
            assert "last held another variant of this suite" in res.stderr and "stay in records/ and are reused" in res.stderr
            assert "records/: 1 file(s) of other variants kept" in res.stderr
    assert first["b"][0]["pgd on base"] == "ran" and first["b"][0]["fgsm on base"] == "done"
    files = {p: p.read_bytes() for sub in ("records", "provenance", "examples") for p in (run_dir / sub).iterdir()}
    assert len(list((run_dir / "records").glob("base__pgd.*.csv"))) == 2
    for name, sets in [("a", a), ("b", b)]:
        res = bench(env, "run", env["spec"], "--out", out, "-q", *sets)
        assert res.exit_code == 0, res.output
        cells = origins(run_dir)
        assert {o for c, o in cells.items() if not c.startswith("train")} == {"done"}, f"variant {name} recomputed {cells}"
        assert (run_dir / "summary.csv").read_text() == first[name][1], "each variant's tables come back exactly"
    after = {p: p.read_bytes() for sub in ("records", "provenance", "examples") for p in (run_dir / sub).iterdir()}
    assert after == files, "no record, provenance or example was deleted or rewritten"


def test_prune_deletes_other_variants_and_names_every_file(env):
    out = env["dir"] / "prune"
    run_dir = out / "weak"
    assert bench(env, "run", env["spec"], "--out", out, "-q").exit_code == 0
    assert bench(env, "run", env["spec"], "--out", out, "-q", "--set", "attacks.pgd.params.steps=3").exit_code == 0
    old = sorted(p.name for p in (run_dir / "records").glob("base__pgd.*.csv"))
    res = bench(env, "run", env["spec"], "--out", out, "-q", "--prune")
    assert res.exit_code == 0, res.output
    kept = [p.name for p in (run_dir / "records").glob("base__pgd.*.csv")]
    (gone,) = set(old) - set(kept)
    assert res.stderr == f"--prune: deleted 1 file(s) of cells this spec does not plan:\n  records/{gone}\n"
    assert not (run_dir / "provenance" / f"{gone}.json").exists() and not (run_dir / "examples" / gone.replace(".csv", ".npz")).exists()


def test_files_respect_the_umask(env):
    old = os.umask(0o022)
    try:
        out = env["dir"] / "umask"
        assert bench(env, "run", env["spec"], "--out", out, "-q").exit_code == 0
        assert bench(env, "baseline", out / "weak", "-o", out / "base.json").exit_code == 0
        assert bench(env, "leaderboard", out / "weak", "-o", out / "lb.md").exit_code == 0
    finally:
        os.umask(old)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 20
    modes = {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert {m for m in modes.values()} == {"0o644"}, modes
    store = [p for p in (Path(env["env"]["BENCH_CACHE_DIR"]) / "models").iterdir() if p.suffix in (".pt", ".json", ".sha256")]
    assert store and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in store)


def test_report_warns_when_the_runs_examples_are_missing(env, tmp_path):
    out = env["dir"] / "verdicts"
    if not (out / "weak").exists():
        assert bench(env, "run", env["spec"], "--out", out, "-q").exit_code == 0
    copy = Path(shutil.copytree(out / "weak", tmp_path / "weak"))
    shutil.rmtree(copy / "examples")
    res = bench(env, "report", copy, "-q")
    assert res.exit_code == 0
    assert "WARNING bench.reporting.report.run_report: examples: not drawn, no examples/ images for this run's attack cells" in res.stderr
    assert pd.read_csv(copy / "flags.csv").shape[0] > 0
