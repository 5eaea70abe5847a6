"""The robustness regression gate: baseline files, the comparison ``bench check`` makes, and how it prints.

Modules:

* ``compare``: The robustness regression gate: baseline files and the comparison ``bench check`` makes.
* ``output``: What ``bench check`` prints: the comparison as a text table, a GitHub job summary, JUnit XML and hints.
"""

from __future__ import annotations

from dataclasses import dataclass


# Here rather than in ``compare``, which loads pandas: ``bench check`` shows these defaults in its options at start-up.
@dataclass(frozen=True)
class Tolerance:
    """How much worse a metric may get before it counts as a regression: ``rate`` absolute, ``norm`` relative."""

    rate: float = 0.02
    norm: float = 0.10
