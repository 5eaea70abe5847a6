"""Architectures. Every model maps inputs in [0,1] to logits.

The registry (``bench.catalogue.architectures``) holds a torch-free card per
architecture: which input shapes fit, and a rough speed. This module holds the
networks themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import torch
from torch import Tensor, nn

from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.datasets import DATASETS
from bench.errors import CacheError

if TYPE_CHECKING:
    from bench.spec.schema import SuiteSpec


class Architecture(nn.Module):
    """Base class: ``__init__(shape, n_classes)``; ``forward`` returns logits for inputs in [0,1]."""


class PapernotStack:
    """The layers of the Papernot et al. 2016 nets: conv ``c1`` x2, pool, conv ``c2`` x2, pool, FC ``fc`` x2 (dropout 0.5).

    Every Papernot architecture (MNIST, its width family, CIFAR) builds its layers here. A base
    class rather than a function, so that each architecture's code digest (its class and its
    bench bases) covers the builder. The layers are made in one fixed order under one set of
    names (``features.0.weight``, ..., ``classifier.6.bias``): the same seed gives the same
    initial weights, and stored checkpoints load.
    """

    @staticmethod
    def pooled_side(n: int) -> int:
        """An input side after both pairs of valid 3x3 convs, each pair followed by a 2x2 max-pool."""
        return ((n - 4) // 2 - 4) // 2

    @staticmethod
    def papernot_layers(c: int, sides: tuple[int, int], c1: int, c2: int, fc: int, n_classes: int) -> tuple[nn.Sequential, nn.Sequential]:
        """(features, classifier) for ``c`` input channels whose feature maps end ``sides`` (height, width) large."""
        features = nn.Sequential(
            nn.Conv2d(c, c1, 3),
            nn.ReLU(),
            nn.Conv2d(c1, c1, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3),
            nn.ReLU(),
            nn.Conv2d(c2, c2, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * sides[0] * sides[1], fc),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(fc, fc),
            nn.ReLU(),
            nn.Linear(fc, n_classes),
        )
        return features, classifier


class PapernotMnist(Architecture, PapernotStack):
    """Papernot et al. 2016 MNIST net (as in Carlini's nn_robust_attacks): 4 conv, 2 FC-200, dropout."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, _ = shape
        side = self.pooled_side(h)  # the height's, for both sides: this net has always assumed square inputs
        self.features, self.classifier = self.papernot_layers(c, (side, side), 32, 64, 200, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class ScaledPapernotMnist(Architecture, PapernotStack):
    """The Papernot MNIST net with every layer's width scaled by ``width`` (a size family for distillation as compression).

    A subclass sets ``width``. At width 1 it is layer for layer ``PapernotMnist``: the same
    builder, so the same seed draws the same initial weights (a test checks this).
    """

    width: ClassVar[float] = 1.0

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, _ = shape
        side = self.pooled_side(h)  # as PapernotMnist
        c1, c2, fc = (max(1, round(n * self.width)) for n in (32, 64, 200))
        self.features, self.classifier = self.papernot_layers(c, (side, side), c1, c2, fc, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class PapernotMnistHalf(ScaledPapernotMnist):
    """The Papernot MNIST net at half width: conv16x2, pool, conv32x2, pool, FC100x2 (about 1/4 of the parameters)."""

    width = 0.5


class PapernotMnistQuarter(ScaledPapernotMnist):
    """The Papernot MNIST net at quarter width: conv8x2, pool, conv16x2, pool, FC50x2 (about 1/16 of the parameters)."""

    width = 0.25


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


def _shape(t: Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def weights_mismatch(module: nn.Module, state: dict[str, Tensor], arch: str) -> str | None:
    """Why ``state`` does not fit ``module``, in one line naming the tensors; None when it fits.

    torch's own message spreads this over many lines; its first line alone names nothing.
    """
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} is {_shape(state[k])} in the file but {_shape(own[k])} in {arch}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]

    def some(names: list[str]) -> str:
        return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")

    parts = [f"missing {some(missing)}"] if missing else []
    parts += [f"unexpected {some(unexpected)}"] if unexpected else []
    parts += [some(shapes)] if shapes else []
    return "; ".join(parts) or None


def load_weights(module: nn.Module, state: dict[str, Tensor], where: str, arch: str = "the architecture") -> None:
    """Load a state dict, or a one-line ``CacheError`` naming every tensor that does not fit."""
    why = weights_mismatch(module, state, arch)
    if why is None:
        try:
            module.load_state_dict(state)
            return
        except RuntimeError as exc:  # e.g. a dtype torch cannot cast; rare, so its own words, joined on one line
            why = " ".join(str(exc).split())
    raise CacheError(f"{where}: weights do not fit {arch} ({why})")


def checkpoint_problems(spec: SuiteSpec) -> list[str]:
    """Each checkpoint of the suite that cannot be read or does not fit its architecture, one line each.

    Loads the files (weights only) and builds each network, but trains and reads
    no data: `bench validate` and `bench run` call it before anything costly.
    External programs, and any checkpoint on a dataset read from a file (whose shape
    is known only once it is read), are checked by ``bench.pipeline.models.preflight`` when
    the run has loaded its data.
    """
    from bench.pipeline.models.store import load_state_dict

    ds = DATASETS.get(spec.dataset.name)
    if ds.needs_path:
        return []
    problems, seen = [], set()
    for m in spec.models:
        if m.checkpoint is None or m.kind == "external" or m.arch is None or (m.checkpoint, m.arch) in seen:
            continue
        seen.add((m.checkpoint, m.arch))
        where = f"models.{m.id}.checkpoint"
        try:
            state = load_state_dict(Path(m.checkpoint))
            # Building a network draws initial weights: leave the caller's RNG where it was.
            with torch.random.fork_rng(devices=[]):
                load_weights(build_model(m.arch, ds.shape, ds.n_classes), state, m.checkpoint, m.arch)
        except CacheError as exc:
            problems.append(f"{where}: {exc}")
    return problems
