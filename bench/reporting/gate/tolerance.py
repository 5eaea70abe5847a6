"""The regression gate's tolerances: how much worse a metric may get before ``bench check`` calls it a regression.

Imports nothing heavy, so that ``bench check`` shows these defaults in its options without loading the gate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    """How much worse a metric may get before it counts as a regression: ``rate`` absolute, ``norm`` relative."""

    rate: float = 0.02
    norm: float = 0.10
