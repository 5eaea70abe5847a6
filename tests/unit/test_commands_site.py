"""bench site (bench.commands.site): the command writes a site and says where; bad inputs are one line and exit 2."""

from __future__ import annotations

from click.testing import CliRunner
from helpers.leaderboard import two_runs
from helpers.site import rb_entry

from bench.cli import cli


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
