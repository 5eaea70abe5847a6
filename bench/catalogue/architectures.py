"""The architecture registry: torch-free cards that point lazily at ``nn.Module`` classes.

A card says what a spec needs to know before anything is built (which inputs
fit, a rough speed for cost estimates, a one-line description), so validating
a suite or listing architectures imports no torch.

Adding an architecture:

1. Write an ``nn.Module`` in ``bench/pipeline/models/networks.py`` (or your own module) whose
   ``__init__(shape, n_classes)`` takes the input shape (C, H, W) and class count,
   and whose ``forward`` maps inputs in [0, 1] to logits (normalise inside).
2. Register a card below: ``ARCHITECTURES.register("my-net", ArchitectureCard("my.module:MyNet", ...))``.
3. ``bench ls architectures`` lists it; a suite uses it as ``arch: my-net``.

A plug-in package declares an entry point in the group ``bench.architectures`` that names
a card (best: a torch-free module, so listing stays light) or the ``nn.Module`` class
itself. A network without its code is a ``kind: external`` model instead (docs/plugins.md).
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
    channels: int | None = None  # the input channels it requires (its normalisation is per channel), or any

    def supports(self, shape: tuple[int, int, int]) -> bool:
        """Whether inputs of this (C, H, W) shape fit the architecture."""
        return shape[1] >= self.min_side and shape[2] >= self.min_side and self.channels in (None, shape[0])

    def load_class(self) -> Any:
        """The ``nn.Module`` class (imports torch)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


def as_card(obj: Any) -> ArchitectureCard:
    """What an entry point names, as a card: a card as is, an ``nn.Module`` class described by its docstring."""
    if isinstance(obj, ArchitectureCard):
        return obj
    if isinstance(obj, type):
        doc = (obj.__doc__ or obj.__name__).strip().splitlines()[0]
        return ArchitectureCard(f"{obj.__module__}:{obj.__qualname__}", doc)
    raise TypeError(f"an architecture entry point must name an ArchitectureCard or an nn.Module class, not {type(obj).__name__}")


ARCHITECTURES: Registry[ArchitectureCard] = Registry("architecture", group="bench.architectures", coerce=as_card)
ARCHITECTURES.register(
    "papernot-mnist",
    ArchitectureCard(
        "bench.pipeline.models.networks:PapernotMnist",
        "Papernot 2016 MNIST CNN: conv32x2, pool, conv64x2, pool, FC200x2 (dropout 0.5; 312k parameters)",
        min_side=28,
    ),
)
# A size family for distillation as compression: the same net at 1/2 and 1/4 width. Speeds: 3,000 times the
# ratio to papernot-mnist measured side by side here (forward+backward, batch 128, 1 thread, best of 4): 3.3 and 4.2.
ARCHITECTURES.register(
    "papernot-mnist-half",
    ArchitectureCard(
        "bench.pipeline.models.networks:PapernotMnistHalf",
        "papernot-mnist at half width: conv16x2, pool, conv32x2, pool, FC100x2 (79k parameters, 1/4 of it)",
        min_side=28,
        passes_per_second=9900.0,
    ),
)
ARCHITECTURES.register(
    "papernot-mnist-quarter",
    ArchitectureCard(
        "bench.pipeline.models.networks:PapernotMnistQuarter",
        "papernot-mnist at quarter width: conv8x2, pool, conv16x2, pool, FC50x2 (20k parameters, 1/16 of it)",
        min_side=28,
        passes_per_second=12500.0,
    ),
)
ARCHITECTURES.register(
    "small-cnn",
    ArchitectureCard(
        "bench.pipeline.models.networks:SmallCnn",
        "small CNN: conv16, conv32 (stride 2), FC64; for tests and 8x8 digits",
        passes_per_second=60000.0,
    ),
)
ARCHITECTURES.register(
    "tiny-mlp",
    ArchitectureCard(
        "bench.pipeline.models.networks:TinyMlp", "MLP with one hidden layer of 32 units; for contract tests", passes_per_second=500000.0
    ),
)
# Speeds: papernot-mnist's 3,000 times the ratio measured side by side here (forward+backward, batch 128,
# best of 6 rounds): 0.22 for papernot-cifar, 0.022 for resnet18-cifar.
ARCHITECTURES.register(
    "papernot-cifar",
    ArchitectureCard(
        "bench.pipeline.models.cifar:PapernotCifar",
        "Papernot 2016 / Carlini 2017 CIFAR CNN: conv64x2, pool, conv128x2, pool, FC256x2 (dropout 0.5); normalises inside",
        min_side=16,
        passes_per_second=650.0,
        channels=3,
    ),
)
ARCHITECTURES.register(
    "resnet18-cifar",
    ArchitectureCard(
        "bench.pipeline.models.cifar:ResNet18Cifar",
        "ResNet-18 for CIFAR: 3x3 stem, no max-pool, 4 stages of 2 basic blocks; normalises inside",
        min_side=8,
        passes_per_second=65.0,
        channels=3,
    ),
)
