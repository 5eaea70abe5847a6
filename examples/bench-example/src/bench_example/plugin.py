"""Registers the example's three plug-ins explicitly: for a suite's ``plugins: [bench_example.plugin]``.

An installed package does not need this module (its entry points do the same); it
serves a project that is on ``PYTHONPATH`` but not installed. Registering a key to
the same target its entry point names is a no-op, so both ways may be active at once.
"""

from __future__ import annotations

from bench.attacks import ATTACKS
from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.datasets import DATASETS

ARCHITECTURES.register("example-gated-mlp", "bench_example.cards:GATED_MLP")
DATASETS.register("example-stripes", "bench_example.data:Stripes")
ATTACKS.register("example.bim", "bench_example.attacks:BasicIterative")
