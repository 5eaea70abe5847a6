"""Training: where a model is trained. ``fit`` runs one ``loop`` with a ``plain`` or an ``adversarial`` loss.

Both loops are pure, seeded functions of (model, data, params): the same recipe on
the same runtime gives the same weights. The train cell (``bench.pipeline.cells.train``)
calls ``fit`` and stores what it returns.

Modules:

* ``loop``: The training loop every model shares: seeded shuffling and augmentation, the optimizer and its schedule.
* ``plain``: Plain training: the loss of a baseline, a teacher and a student, and the predictions distillation reads.
* ``adversarial``: Adversarial training (``train.adversarial``): its training loop and its inner attack.
"""

from __future__ import annotations

import logging

from torch import Tensor, nn

from bench.pipeline.training import adversarial, loop, plain
from bench.spec.schema import TrainSpec


def fit(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    params: TrainSpec,
    seed: int,
    soft_targets: Tensor | None = None,
    desc: str = "train",
    quiet: bool = True,
) -> nn.Module:
    """Train ``model`` in place on (x, y): adversarially when ``params.adversarial`` is set; soft targets make it a student."""
    adv = params.adversarial
    if adv is None:
        return loop.run(model, x, params, seed, plain.batch_loss(model, y, params, soft_targets), desc, quiet, logging.DEBUG)
    if soft_targets is not None:
        raise ValueError("adversarial training takes hard labels (a baseline), not a student's soft targets")
    label = f"{desc} [{adv.describe()}, {adv.cost():g}x passes]"
    return loop.run(model, x, params, seed, adversarial.batch_loss(model, y, params, adv, seed), label, quiet, logging.INFO)
