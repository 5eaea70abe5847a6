"""The attack catalogue (bench.catalogue.attacks): listing it imports no backend, and every attack declares its contract."""

from __future__ import annotations

from bench.catalogue.attacks import ATTACKS


def test_importing_bench_and_listing_attacks_does_not_import_backends():
    import subprocess
    import sys

    code = "import sys, bench.spec, bench.attacks; bench.attacks.ATTACKS.keys(); print('art' in sys.modules, 'torchattacks' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_every_attack_declares_its_contract():
    for key in ATTACKS.keys():
        cls = ATTACKS.get(key)
        assert cls.kind in ("fixed_eps", "min_norm") and cls.norms and cls.default_tag in ("naive", "adaptive")
        assert cls.description
        cls.Params()  # defaults validate
