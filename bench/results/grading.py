"""What every check yields, and the one rule that grades a value against a check's thresholds.

``bench.results.flags`` (the sanity and masking checks) and ``bench.results.audit``
(the audit checks) both build their rows here; the thresholds themselves, and why,
are in docs/flags.md.
"""

from __future__ import annotations

import math

FLAG_COLUMNS = ["model", "attack", "check", "category", "verdict", "value", "threshold", "message"]


def flag_row(
    model: str, attack: str, check: str, category: str, verdict: str, value: float, threshold: str, message: str
) -> dict[str, object]:
    """One row of ``FLAG_COLUMNS``."""
    return dict(zip(FLAG_COLUMNS, [model, attack, check, category, verdict, value, threshold, message], strict=True))


def grade(value: float, warn: float, fail: float, higher_is_bad: bool = True) -> str:
    """``pass``, ``warn`` or ``fail``: the grading rule of every check with a warn and a fail threshold.

    One edge convention (docs/flags.md's "at >="): a value *reaches* a threshold when it is
    ``>=`` it. With ``higher_is_bad`` a value that reaches ``fail`` fails and one that reaches
    ``warn`` warns; otherwise (a rate that must be high) a value that does not reach ``fail``
    fails and one that does not reach ``warn`` warns. NaN (nothing measured) passes. A check
    that only warns passes ``fail=math.inf``.
    """
    if math.isnan(value):
        return "pass"
    if higher_is_bad:
        return "fail" if value >= fail else "warn" if value >= warn else "pass"
    return "fail" if value < fail else "warn" if value < warn else "pass"
