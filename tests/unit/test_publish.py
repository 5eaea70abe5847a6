"""bench report, export and site (bench.commands.publish): each writes what it says, and bad inputs get one line and exit 2."""

from __future__ import annotations

import json

from click.testing import CliRunner
from helpers.cli import invoke
from helpers.leaderboard import two_runs
from helpers.site import rb_entry

from bench.cli import cli


def test_bench_report_command_rejects_non_run_folders(tmp_path):
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["report", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "not a bench run folder" in res.output


def test_each_format_writes_its_files_and_names_them(tmp_path):
    one, _ = two_runs(tmp_path)
    res = invoke("export", one, "--format", "latex", "--out", tmp_path / "paper" / "tables.tex")
    assert res.exit_code == 0, res.output
    tex = (tmp_path / "paper" / "tables.tex").read_text()
    assert res.stdout.strip() == str(tmp_path / "paper" / "tables.tex")
    assert all(rule in tex for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
    res = invoke("export", one, "--format", "csv", "--out", tmp_path / "csv")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["at_a_glance.csv", "defences.csv"]
    res = invoke("export", one, "--format", "robustbench", "--out", tmp_path / "rb", "--eps", "0.1")
    assert res.exit_code == 0, res.output
    entry = json.loads((tmp_path / "rb" / "model_info" / "digits" / "Linf" / "a.json").read_text())
    assert entry["eps"] == "0.1" and res.stdout.count("model_info") == 2


def test_bad_requests_get_one_line_and_exit_2(tmp_path):
    one, _ = two_runs(tmp_path)
    res = invoke("export", one, "--format", "latex", "--out", tmp_path / "t.tex", "--eps", "0.3")
    assert res.exit_code == 2 and "--eps and --norm apply to --format robustbench only" in res.output
    res = invoke("export", one, "--format", "latex", "--out", tmp_path)
    assert res.exit_code == 2 and res.output.strip() == f"error: {tmp_path}: is a folder; --format latex writes a file there"
    res = invoke("export", one, "--format", "robustbench", "--out", tmp_path / "rb", "--eps", "0.2")
    assert res.exit_code == 2 and res.output.startswith("error: --eps 0.2 (linf) was not evaluated for")
    res = invoke("export", one, "--format", "robustbench", "--out", tmp_path / "rb", "--norm", "l2")
    assert res.exit_code == 2 and "no model was attacked at l2, so there is no RobustBench entry to write" in res.output
    assert not (tmp_path / "rb").exists()
    res = invoke("export", tmp_path / "nowhere", "--format", "csv", "--out", tmp_path / "csv")
    assert res.exit_code == 2 and "not a bench run folder" in res.output


def test_cli_writes_a_site_and_names_its_index(tmp_path):
    one, two = two_runs(tmp_path)
    rb_entry(tmp_path / "rb", "digits", "Linf", "x")
    res = CliRunner().invoke(cli, ["site", str(one), str(two), str(tmp_path / "rb"), "--out", str(tmp_path / "site"), "-q"])
    assert res.exit_code == 0, res.output
    assert res.output == f"{tmp_path / 'site' / 'index.html'}: 5 pages, 1 group(s), 1 reported\n"
    assert (tmp_path / "site" / "index.html").read_text().startswith("<!DOCTYPE html>")


def test_bad_inputs_are_one_line_and_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    cr = CliRunner()
    for args, message in [
        ([str(tmp_path / "nope")], f"error: {tmp_path / 'nope'}: no such file or folder\n"),
        ([str(tmp_path / "empty")], f"error: {tmp_path / 'empty'}: neither a bench run folder (no records/) nor a folder of "),
    ]:
        res = cr.invoke(cli, ["site", *args, "--out", str(tmp_path / "site")])
        assert res.exit_code == 2 and res.output.startswith(message) and len(res.output.splitlines()) == 1, res.output
    res = cr.invoke(cli, ["site", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "Missing option '--out'" in res.output
