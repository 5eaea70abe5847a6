"""bench report (bench.commands.report): it refuses a folder that is not a run folder."""

from __future__ import annotations

from bench.cli import cli


def test_bench_report_command_rejects_non_run_folders(tmp_path):
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["report", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "not a bench run folder" in res.output
