"""The light commands (validate, ls, report, leaderboard, baseline, check, export) never import torch or the attack libraries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from helpers.imports import HEAVY

ROOT = Path(__file__).resolve().parents[2]

LIGHT = """
import sys
from click.testing import CliRunner
from bench.cli import cli
for args in {commands!r}:
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, (args, res.output)
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(','.join(heavy) or 'none')
"""


def test_light_commands_import_no_torch(smoke_cold_run, tmp_path):
    # A copy of the session's smoke run: report rewrites files in the run folder.
    run_dir = tmp_path / "smoke"
    shutil.copytree(smoke_cold_run.dir, run_dir)
    commands = [
        ["validate", str(ROOT / "suites" / "mnist.yaml")],
        ["ls", "attacks"],
        ["ls", "architectures"],
        ["ls", "datasets"],
        ["report", str(run_dir)],
        ["leaderboard", str(run_dir)],
        ["baseline", str(run_dir), "-o", str(tmp_path / "b.json")],
        ["check", str(run_dir), "--baseline", str(tmp_path / "b.json")],
        ["export", str(run_dir), "--format", "latex", "--out", str(tmp_path / "t.tex")],
        ["export", str(run_dir), "--format", "csv", "--out", str(tmp_path / "csv")],
        ["export", str(run_dir), "--format", "robustbench", "--out", str(tmp_path / "rb")],
    ]
    code = LIGHT.format(commands=commands, heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "none"
