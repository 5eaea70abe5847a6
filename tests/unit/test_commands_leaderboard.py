"""bench leaderboard (bench.commands.leaderboard): each output format, and a budget no run evaluated."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers.leaderboard import two_runs

from bench.cli import cli


@pytest.fixture
def runs(tmp_path):
    return two_runs(tmp_path)


def test_cli_writes_each_format(tmp_path, runs):
    cr = CliRunner()
    res = cr.invoke(cli, ["leaderboard", *map(str, runs), "--format", "csv", "-o", str(tmp_path / "lb.csv")])
    assert res.exit_code == 0, res.output
    lb = pd.read_csv(tmp_path / "lb.csv")
    assert lb["model"].tolist() == ["d", "a", "b", "c"] and lb["rank"].fillna(0).tolist() == [1, 1, 0, 0]
    res = cr.invoke(cli, ["leaderboard", *map(str, runs), "--eps", "0.1", "--format", "html"])
    assert res.exit_code == 0 and res.output.startswith("<!DOCTYPE html>") and "digits: linf eps 0.1" in res.output
    assert '<tr class="fail">' in res.output and "<script" not in res.output
    res = cr.invoke(cli, ["leaderboard", *map(str, runs)])
    assert res.exit_code == 0 and "| rank | model | suite | samples | attacks | clean |" in res.output
    res = cr.invoke(cli, ["leaderboard", *map(str, runs), "--eps", "0.2"])
    assert res.exit_code == 2 and res.output.startswith("error: --eps 0.2 (linf) was not evaluated") and len(res.output.splitlines()) == 1
