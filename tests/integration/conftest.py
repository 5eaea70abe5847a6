"""Fixtures shared by the integration tests: one cold run of the smoke suite, made once per session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner, Result

from bench.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "suites" / "smoke.yaml"


@dataclass(frozen=True)
class SmokeRun:
    """A finished cold smoke run: its run folder, its model store, and what ``bench run`` returned."""

    dir: Path
    store: Path
    result: Result


@pytest.fixture(scope="session")
def smoke_cold_run(tmp_path_factory) -> SmokeRun:
    """One cold ``bench run suites/smoke.yaml`` in process, torch on the test thread count, offline, in a fresh store.

    Shared by every test that only reads a cold smoke run; a test that changes the run
    folder works on a copy (``shutil.copytree``), and one that reuses the store only adds to it.
    """
    base = tmp_path_factory.mktemp("smoke-cold")
    torch.set_num_threads(int(os.environ.get("BENCH_TEST_THREADS", "1")))
    env = {"BENCH_CACHE_DIR": str(base / "store"), "BENCH_OFFLINE": "1"}
    result = CliRunner().invoke(cli, ["run", str(SMOKE), "--out", str(base / "out"), "-q"], env=env)
    assert result.exit_code == 0, result.output
    return SmokeRun(base / "out" / "smoke", base / "store", result)
