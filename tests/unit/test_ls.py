"""bench ls (bench.commands.ls): each attack's parameters, and where each key came from."""

from __future__ import annotations

from click.testing import CliRunner
from helpers.cli import invoke

from bench.cli import cli


def test_ls_attacks_params_lists_each_attacks_parameters():
    res = invoke("ls", "attacks", "--params")
    assert res.exit_code == 0
    text = res.stdout
    pgd = text.split("torchattacks.pgd ")[1].split("torchattacks.pgdl2")[0]
    assert "steps" in pgd and "int" in pgd and "default 40" in pgd and "alpha" in pgd and "float | None" in pgd
    assert "(no parameters)" in text.split("torchattacks.fgsm")[1].splitlines()[1]
    plain = invoke("ls", "attacks").stdout
    assert "default 40" not in plain


def test_ls_shows_origins_and_imports_plugins(on_path):
    (on_path / "plug_ls.py").write_text(
        "from bench.catalogue.datasets import DATASETS\nDATASETS.register('plug-digits', 'bench.catalogue.datasets:Digits')\n"
    )
    try:
        res = CliRunner().invoke(cli, ["ls", "datasets", "--plugin", "plug_ls"])
        assert res.exit_code == 0, res.output
        lines = {line.split()[0]: line for line in res.stdout.splitlines()}
        assert lines["plug-digits"].endswith("[plugin module plug_ls]")
        assert lines["digits"].endswith("[bench]") and "1x8x8" in lines["digits"]
        assert lines["arrays"].split()[1] == "file"
    finally:
        from bench.catalogue.datasets import DATASETS

        DATASETS.unregister("plug-digits")
