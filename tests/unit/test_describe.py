"""bench describe (bench.commands.describe): every parameter of an attack with its type, default and meaning."""

from __future__ import annotations

from helpers.cli import invoke


def test_describe_prints_every_parameter_with_type_default_and_meaning():
    res = invoke("describe", "bench.cw_l2")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    kappa = next(line for line in lines if line.split()[0] == "kappa")
    assert kappa.split()[:4] == ["kappa", "float", "default", "0.0"] and "margin" in kappa
    assert "confidence is kappa" in res.stdout
    assert "kind min_norm, norms l2, default tag adaptive" in res.stdout
    res = invoke("describe", "bench.cw")
    assert res.exit_code == 2 and res.stderr == "error: unknown attack 'bench.cw'; did you mean 'bench.cw_l2'?\n"
