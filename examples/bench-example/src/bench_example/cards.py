"""The architecture's card: what bench needs to know without importing torch (listing and validating stay fast)."""

from __future__ import annotations

from bench.catalogue.architectures import ArchitectureCard

GATED_MLP = ArchitectureCard(
    "bench_example.nets:GatedMlp",
    "example plug-in: an MLP with a gated linear unit (GLU) hidden layer",
    passes_per_second=200000.0,  # rough, for `bench validate`'s cost estimate
)
