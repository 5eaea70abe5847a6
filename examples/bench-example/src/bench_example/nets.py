"""The network: ``__init__(shape, n_classes)``, and ``forward`` maps inputs in [0, 1] to logits."""

from __future__ import annotations

from torch import Tensor, nn


class GatedMlp(nn.Module):
    """Flatten, a 64-unit gated linear unit (GLU) layer, then a linear layer to the logits."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = shape
        self.gate = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 2 * 64), nn.GLU())
        self.out = nn.Linear(64, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        # Centre the inputs here, inside the model: bench's data and eps stay in pixel space [0, 1].
        return self.out(self.gate(x - 0.5))
