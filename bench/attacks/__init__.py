"""Attacks: the contract every attack passes through (``base``), one adapter per backend, bench's own attacks, and views.

The catalogue of attack keys lives in ``bench.catalogue.attacks`` (torch-free, so the
spec can check keys without importing this package); it is re-exported here because
plug-ins register with ``from bench.attacks import ATTACKS``. How to add an attack:
``bench.catalogue.attacks``.

Modules:

* ``base``: The attack contract.
* ``ops``: Tensor helpers of the attack contract: seeding, perturbation norms and projection.
* ``views``: Views: the function of the deployed model that an attack differentiates.
* ``losses``: Margin losses on logits, the adaptive alternative to cross-entropy.
* ``indicators``: What bench's own gradient attacks record for the indicators of attack failure (Pintor et al., NeurIPS 2022).
* ``torchattacks_backend``: Adapters for torchattacks. torchattacks is imported only when an attack runs.
* ``art_backend``: Adapters for the Adversarial Robustness Toolbox. ART is imported only when an attack runs.
* ``autoattack``: AutoAttack (Croce & Hein 2020) through the official code, the ``pyautoattack`` package (imported only when it runs).
* ``cw``: bench's own Carlini & Wagner L2 attack: batched, native PyTorch.
* ``pgd_margin``: bench's margin-loss PGD: PGD on ``max_{i!=y} Z_i - Z_y`` instead of cross-entropy.
"""

from __future__ import annotations

from bench.catalogue.attacks import ATTACKS

__all__ = ["ATTACKS"]
