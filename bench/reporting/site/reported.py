"""RobustBench entries read as reported rows: numbers a site lists beside bench's own, never ranks with them.

The format is RobustBench's ``model_info/<dataset>/<threat>/<Name>.json`` (the one
``bench export --format robustbench`` writes): one JSON object per model whose
accuracies are percentages written as strings (``"98.40"``), and whose eps is
written as in a paper (``"8/255"`` or ``"0.3"``). The threat model is the name of
the folder the file sits in (``Linf``, ``L2``, ``L1``), as in RobustBench, and the
dataset is that folder's parent (or the entry's own ``dataset`` key).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.errors import BenchError

THREATS = {"linf": "linf", "l2": "l2", "l1": "l1"}  # RobustBench's threat folder (lower-cased) -> bench's norm name
MODEL_INFO = "model_info"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportedEntry:
    """One RobustBench entry: what its authors (or another harness) reported, with the file it came from."""

    path: Path
    name: str
    dataset: str
    norm: str
    eps: float
    eps_text: str
    clean: float  # a fraction in [0, 1]; NaN when absent
    robust: float  # ``autoattack_acc`` as a fraction; NaN when absent
    claimed: float  # ``reported``: the paper's own robust accuracy, NaN when absent
    unreliable: bool
    footnote: str
    link: str
    authors: str
    venue: str
    architecture: str


def _percent(path: Path, key: str, value: object) -> float:
    # RobustBench writes "98.40"; a number, "" or a missing key are accepted too (empty means not reported).
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BenchError(f"{path}: {key} is {value!r}, not a percentage") from None
    if not 0 <= out <= 100:
        raise BenchError(f"{path}: {key} is {value!r}, outside 0 to 100 (RobustBench writes percentages)")
    return out / 100


def parse_eps(path: Path, value: object) -> float:
    """``"8/255"``, ``"0.3"`` or a number, as a float; a one-line ``BenchError`` otherwise."""
    try:
        out = float(Fraction(str(value).strip()))
    except (ValueError, ZeroDivisionError):
        raise BenchError(f"{path}: eps is {value!r}, not a number or a fraction such as 8/255") from None
    if out < 0:
        raise BenchError(f"{path}: eps is {value!r}, below 0")
    return out


def _flag(path: Path, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", ""):
        return value.strip().lower() == "true"
    raise BenchError(f"{path}: unreliable is {value!r}, not true or false")


def _where(path: Path, body: dict[str, Any]) -> tuple[str, str]:
    """The entry's dataset and bench norm: from ``.../<dataset>/<threat>/<Name>.json``, the dataset also from the entry."""
    threat = path.parent.name
    norm = THREATS.get(threat.lower())
    if norm is None:
        raise BenchError(
            f"{path}: cannot tell its threat model: RobustBench entries sit in a folder named Linf, L2 or L1 "
            f"(model_info/<dataset>/<threat>/<Name>.json), this one in {threat!r}"
        )
    dataset = str(body.get("dataset") or "") or path.parent.parent.name
    if not dataset or dataset == MODEL_INFO:
        raise BenchError(f"{path}: cannot tell its dataset: no dataset key and no model_info/<dataset>/ folder above it")
    return dataset, norm


def read_entry(path: Path) -> ReportedEntry:
    """One RobustBench JSON file; a one-line ``BenchError`` naming the file and the field when it is not one."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"{path}: not a readable RobustBench entry ({type(exc).__name__}: {exc})") from None
    if not isinstance(body, dict):
        raise BenchError(f"{path}: not a RobustBench entry (not a JSON object)")
    missing = [k for k in ("name", "eps", "clean_acc", "autoattack_acc") if k not in body]
    if missing:
        raise BenchError(f"{path}: not a RobustBench entry (no {', '.join(missing)})")
    dataset, norm = _where(path, body)
    return ReportedEntry(
        path=path,
        name=str(body["name"]),
        dataset=dataset,
        norm=norm,
        eps=parse_eps(path, body["eps"]),
        eps_text=str(body["eps"]),
        clean=_percent(path, "clean_acc", body["clean_acc"]),
        robust=_percent(path, "autoattack_acc", body["autoattack_acc"]),
        claimed=_percent(path, "reported", body.get("reported")),
        unreliable=_flag(path, body.get("unreliable", False)),
        footnote=str(body.get("footnote") or ""),
        link=str(body.get("link") or ""),
        authors=str(body.get("authors") or ""),
        venue=str(body.get("venue") or ""),
        architecture=str(body.get("architecture") or ""),
    )


def read_reported(path: Path) -> list[ReportedEntry]:
    """The entries of a RobustBench JSON file, or of every ``*.json`` under a folder (sorted by path).

    In a folder, entries under a threat model bench does not measure (RobustBench's ``corruptions/``, with
    ``corruptions_acc`` instead of ``autoattack_acc``) are left out, and the log says how many; a file named on its
    own must be an Lp entry.
    """
    if path.is_file():
        return [read_entry(path)]
    files = sorted(p for p in path.rglob("*.json") if p.is_file())
    if not files:
        raise BenchError(f"{path}: neither a bench run folder (no records/) nor a folder of RobustBench entries (no *.json under it)")
    # RobustBench's own layout (model_info/<dataset>/<threat>/<Name>.json) under a threat bench does not measure.
    unmeasured = [p for p in files if p.parent.name.lower() not in THREATS and p.parent.parent.parent.name == MODEL_INFO]
    if unmeasured:
        names = ", ".join(f"{k}: {n}" for k, n in sorted(Counter(p.parent.name for p in unmeasured).items()))
        log.warning("%s: left out %d RobustBench entries of threat models bench does not measure (%s)", path, len(unmeasured), names)
    skip = set(unmeasured)
    kept = [p for p in files if p not in skip]
    if not kept:
        raise BenchError(f"{path}: no RobustBench entry under a Linf, L2 or L1 folder")
    return [read_entry(p) for p in kept]
