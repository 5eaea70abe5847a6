"""CIFAR-10 architectures. Both take inputs in [0, 1] and normalise inside, so eps stays in pixel space.

* ``PapernotCifar``: the CIFAR net of Papernot et al. 2016 and Carlini & Wagner 2017
  (conv64x2, pool, conv128x2, pool, FC256x2 with dropout 0.5).
* ``ResNet18Cifar``: the ResNet-18 the robustness literature uses on CIFAR (He et al.
  2016 as adapted for 32x32 inputs: a 3x3 stride-1 stem and no max-pool).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bench.pipeline.models.networks import Architecture, PapernotStack

# Per-channel mean and standard deviation of the 50,000 CIFAR-10 training images in [0, 1].
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class CifarArchitecture(Architecture):
    """Base of the CIFAR nets: standardises [0, 1] RGB inputs with CIFAR-10's statistics first."""

    def __init__(self) -> None:
        super().__init__()
        # Not persistent: constants of the architecture, not weights, so state dicts hold weights only.
        self.register_buffer("mean", torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CIFAR10_STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x: Tensor) -> Tensor:
        """(x - mean) / std per channel."""
        return (x - self.mean) / self.std


class PapernotCifar(CifarArchitecture, PapernotStack):
    """Papernot 2016 / Carlini 2017 CIFAR net: 4 conv (valid padding), 2 max-pools, 2 FC-256, dropout."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        sides = (self.pooled_side(h), self.pooled_side(w))
        self.features, self.classifier = self.papernot_layers(c, sides, 64, 128, 256, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(self.normalize(x)))


class ResNet18Cifar(CifarArchitecture):
    """ResNet-18 for 32x32 inputs: 3x3 stem, stages of 64/128/256/512 with two basic blocks, global pool."""

    class Block(nn.Module):
        """A basic residual block: two 3x3 conv+BN, with a 1x1 projection when the shape changes."""

        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.shortcut = nn.Sequential()
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x: Tensor) -> Tensor:
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c = shape[0]
        self.stem = nn.Sequential(nn.Conv2d(c, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        blocks, c_in = [], 64
        for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [self.Block(c_in, c_out, stride), self.Block(c_out, c_out, 1)]
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, n_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.blocks(self.stem(self.normalize(x))))
