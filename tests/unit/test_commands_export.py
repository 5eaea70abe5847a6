"""``bench export`` (bench.commands.export): each format through the command line, and its one-line errors."""

from __future__ import annotations

import json

from helpers.cli import invoke
from helpers.leaderboard import two_runs


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
    res = invoke("export", tmp_path / "nowhere", "--format", "csv", "--out", tmp_path / "csv")
    assert res.exit_code == 2 and "not a bench run folder" in res.output
