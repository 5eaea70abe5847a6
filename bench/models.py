"""Architectures. Every model maps inputs in [0,1] to logits.

Each architecture is a ``nn.Module`` subclass with a ``supports(shape)`` class
method, so a spec that pairs an architecture with data of the wrong shape is
rejected before any training.
"""

from __future__ import annotations

from torch import Tensor, nn

from bench.registry import Registry


class Architecture(nn.Module):
    """Base class: ``forward`` returns logits for inputs in [0,1]."""

    description = ""
    # Forward+backward passes per second on 2 CPU cores (measured here); only for rough cost estimates.
    passes_per_second = 3000.0

    @classmethod
    def supports(cls, shape: tuple[int, int, int]) -> bool:
        """Whether inputs of this (C, H, W) shape fit the architecture."""
        return True


class PapernotMnist(Architecture):
    """Papernot et al. 2016 MNIST net (as in Carlini's nn_robust_attacks): 4 conv, 2 FC-200, dropout."""

    description = "Papernot 2016 MNIST CNN: conv32x2, pool, conv64x2, pool, FC200x2 (dropout 0.5)"

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        side = ((h - 4) // 2 - 4) // 2
        self.features = nn.Sequential(
            nn.Conv2d(c, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 200), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, n_classes),
        )

    @classmethod
    def supports(cls, shape: tuple[int, int, int]) -> bool:
        return shape[1] >= 28 and shape[2] >= 28

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class SmallCnn(Architecture):
    """A two-conv net for small images (8x8 digits and up); trains in seconds."""

    description = "small CNN: conv16, conv32 (stride 2), FC64; for tests and 8x8 digits"
    passes_per_second = 60000.0

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * ((h + 1) // 2) * ((w + 1) // 2), 64), nn.ReLU(), nn.Linear(64, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class TinyMlp(Architecture):
    """A one-hidden-layer MLP; runs in milliseconds, for contract tests."""

    description = "MLP with one hidden layer of 32 units; for contract tests"
    passes_per_second = 500000.0

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 32), nn.ReLU(), nn.Linear(32, n_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


ARCHITECTURES: Registry[type[Architecture]] = Registry("architecture")
ARCHITECTURES.register("papernot-mnist", PapernotMnist)
ARCHITECTURES.register("small-cnn", SmallCnn)
ARCHITECTURES.register("tiny-mlp", TinyMlp)


def build_model(arch: str, shape: tuple[int, int, int], n_classes: int) -> Architecture:
    """Instantiate an architecture for inputs of ``shape``."""
    return ARCHITECTURES.get(arch)(shape, n_classes)
