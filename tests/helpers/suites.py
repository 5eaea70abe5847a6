"""The shipped suites: their folder, the smoke suite's path and contents, and a changed copy of them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
SMOKE = SUITES / "smoke.yaml"
BASE: dict[str, Any] = yaml.safe_load(SMOKE.read_text())


def mutate(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """A deep copy of the smoke suite with ``change`` applied to it."""
    data = copy.deepcopy(BASE)
    change(data)
    return data
