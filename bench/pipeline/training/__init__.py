"""Training: where a model is trained. ``fit`` trains any model in place; the loops are ``plain`` and ``adversarial``.

Both loops are pure, seeded functions of (model, data, params): the same recipe on
the same runtime gives the same weights. The train cell (``bench.pipeline.cells.train``)
calls ``fit`` and stores what it returns.

Modules:

* ``plain``: The plain training loop: pure, seeded functions of (model, data, params).
* ``adversarial``: Adversarial training (``train.adversarial``): its training loop and its inner attack.
"""

from __future__ import annotations

from torch import Tensor, nn

from bench.pipeline.training.adversarial import fit_adversarial
from bench.pipeline.training.plain import fit_plain
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
    """Train ``model`` in place: adversarially when ``params.adversarial`` is set, else plainly (``plain.fit_plain``)."""
    if params.adversarial is None:
        return fit_plain(model, x, y, params, seed, soft_targets=soft_targets, desc=desc, quiet=quiet)
    if soft_targets is not None:
        raise ValueError("adversarial training takes hard labels (a baseline), not a student's soft targets")
    return fit_adversarial(model, x, y, params, params.adversarial, seed, desc=desc, quiet=quiet)
