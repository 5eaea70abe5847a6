"""What bench's own gradient attacks record for the indicators of attack failure (Pintor et al., NeurIPS 2022).

Imported only inside ``generate``. An attack records per sample:

* ``margin_trace`` (samples x steps): the logit margin ``Z_y - max_{i!=y} Z_i`` of the view at
  every step (negative: misclassified), the quantity that decides success;
* ``ever_adv``: whether any point on the path was misclassified by the view;
* ``noise_rel``: how much the margin at the clean input moves under small uniform noise,
  relative to its size (the mean over ``NOISE_DRAWS`` draws of radius ``NOISE_RADIUS``).

The rules that turn these into flags live in ``bench.results.audit`` (``check_indicators``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bench.attacks.losses import margin

NOISE_DRAWS = 8
NOISE_RADIUS = 0.01  # in [0, 1] pixel units, Linf: far below any budget bench evaluates


def noise_sensitivity(view: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Per sample: mean |m(x + d) - m(x)| / |m(x)| over small uniform noise d (``margin`` m on the view)."""
    with torch.no_grad():
        m0 = margin(view(x), y)
        moves = torch.zeros(len(x), device=x.device)
        for _ in range(NOISE_DRAWS):
            noisy = (x + torch.empty_like(x).uniform_(-NOISE_RADIUS, NOISE_RADIUS)).clamp(0, 1)
            moves += (margin(view(noisy), y) - m0).abs()
    return moves / NOISE_DRAWS / m0.abs().clamp_min(1e-12)
