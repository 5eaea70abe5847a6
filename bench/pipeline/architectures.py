"""The architecture registry: torch-free cards that point lazily at ``nn.Module`` classes.

A card says what a spec needs to know before anything is built (which inputs
fit, a rough speed for cost estimates, a one-line description), so validating
a suite or listing architectures imports no torch.

Adding an architecture:

1. Write an ``nn.Module`` in ``bench/pipeline/models.py`` (or your own module) whose
   ``__init__(shape, n_classes)`` takes the input shape (C, H, W) and class count,
   and whose ``forward`` maps inputs in [0, 1] to logits (normalise inside).
2. Register a card below: ``ARCHITECTURES.register("my-net", ArchitectureCard("my.module:MyNet", ...))``.
3. ``bench ls architectures`` lists it; a suite uses it as ``arch: my-net``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from bench.registry import Registry


@dataclass(frozen=True)
class ArchitectureCard:
    """What bench knows about an architecture without importing it."""

    target: str  # "module:Class"
    description: str
    min_side: int = 1  # smallest input height and width it accepts
    # Forward+backward passes per second on 2 CPU cores (measured here); only for rough cost estimates.
    passes_per_second: float = 3000.0

    def supports(self, shape: tuple[int, int, int]) -> bool:
        """Whether inputs of this (C, H, W) shape fit the architecture."""
        return shape[1] >= self.min_side and shape[2] >= self.min_side

    def load_class(self) -> Any:
        """The ``nn.Module`` class (imports torch)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


ARCHITECTURES: Registry[ArchitectureCard] = Registry("architecture")
ARCHITECTURES.register(
    "papernot-mnist",
    ArchitectureCard(
        "bench.pipeline.models:PapernotMnist", "Papernot 2016 MNIST CNN: conv32x2, pool, conv64x2, pool, FC200x2 (dropout 0.5)", min_side=28
    ),
)
ARCHITECTURES.register(
    "small-cnn",
    ArchitectureCard(
        "bench.pipeline.models:SmallCnn", "small CNN: conv16, conv32 (stride 2), FC64; for tests and 8x8 digits", passes_per_second=60000.0
    ),
)
ARCHITECTURES.register(
    "tiny-mlp",
    ArchitectureCard(
        "bench.pipeline.models:TinyMlp", "MLP with one hidden layer of 32 units; for contract tests", passes_per_second=500000.0
    ),
)
