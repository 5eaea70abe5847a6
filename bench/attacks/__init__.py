"""Attacks: the contract every attack passes through (``base``), one adapter module per backend, bench's own attacks, and views.

The catalogue of attack keys lives in ``bench.catalogue.attacks`` (torch-free, so the
spec can check keys without importing this package); it is re-exported here because
plug-ins register with ``from bench.attacks import ATTACKS``. How to add an attack:
``bench.catalogue.attacks``.
"""

from __future__ import annotations

from bench.catalogue.attacks import ATTACKS

__all__ = ["ATTACKS"]
