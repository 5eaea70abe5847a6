"""Architectures. Every model maps inputs in [0,1] to logits.

The registry (``bench.pipeline.architectures``) holds a torch-free card per
architecture: which input shapes fit, and a rough speed. This module holds the
networks themselves.
"""

from __future__ import annotations

from torch import Tensor, nn

from bench.pipeline.architectures import ARCHITECTURES


class Architecture(nn.Module):
    """Base class: ``__init__(shape, n_classes)``; ``forward`` returns logits for inputs in [0,1]."""


class PapernotMnist(Architecture):
    """Papernot et al. 2016 MNIST net (as in Carlini's nn_robust_attacks): 4 conv, 2 FC-200, dropout."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        side = ((h - 4) // 2 - 4) // 2
        self.features = nn.Sequential(
            nn.Conv2d(c, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * side * side, 200),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(200, 200),
            nn.ReLU(),
            nn.Linear(200, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class SmallCnn(Architecture):
    """A two-conv net for small images (8x8 digits and up); trains in seconds."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * ((h + 1) // 2) * ((w + 1) // 2), 64),
            nn.ReLU(),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class TinyMlp(Architecture):
    """A one-hidden-layer MLP; runs in milliseconds, for contract tests."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 32), nn.ReLU(), nn.Linear(32, n_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def build_model(arch: str, shape: tuple[int, int, int], n_classes: int) -> nn.Module:
    """Instantiate the architecture registered as ``arch`` for inputs of ``shape``."""
    return ARCHITECTURES.get(arch).load_class()(shape, n_classes)
