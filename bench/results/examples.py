"""A few clean and adversarial inputs per attack cell, so reports can show what an attack did.

Records hold no images, so the runner optionally saves a small artifact per
cell: ``examples/<shard>.npz`` (named like the cell's records shard, key
included, so two variants of an attack never share one) with the first ``MAX_EXAMPLES``
samples. Fixed-budget attacks store the result at their largest eps, minimum-norm
attacks their unbounded result. The artifact is optional: every report works
without it, and a missing or unreadable file only drops the examples figure.
"""

from __future__ import annotations

import io
import logging
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.fsutil import atomic_write_bytes
from bench.results.records import WORST

log = logging.getLogger(__name__)

MAX_EXAMPLES = 8
EXAMPLES_DIR = "examples"


@dataclass(frozen=True)
class Examples:
    """Clean inputs, their adversarial versions, and the predictions on both (N x C x H x W in [0, 1])."""

    x: np.ndarray
    x_adv: np.ndarray
    label: np.ndarray
    clean_pred: np.ndarray
    adv_pred: np.ndarray
    eps: float  # inf for a minimum-norm attack's unbounded result


def examples_path(run_dir: Path, shard: str) -> Path:
    """Where the examples of the attack cell whose records shard is ``shard`` (a file name) live."""
    return run_dir / EXAMPLES_DIR / f"{Path(shard).stem}.npz"


def _candidates(run_dir: Path, model: str, attack: str, outputs: set[str] | None) -> list[Path]:
    # The planned shard's examples only: another variant's images must not stand for this one's numbers.
    prefix = f"{model}__{attack}."
    if outputs is not None:
        return [examples_path(run_dir, o) for o in sorted(outputs) if o.startswith(prefix)]
    return sorted((run_dir / EXAMPLES_DIR).glob(f"{prefix}*.npz"))


def _numpy(a: Any) -> np.ndarray:
    # Accept torch tensors without importing torch here.
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def save_examples(path: Path, x: Any, x_adv: Any, label: Any, clean_pred: Any, adv_pred: Any, eps: float | None) -> None:
    """Save the first ``MAX_EXAMPLES`` samples of a cell atomically (arrays or tensors; eps None = unbounded)."""
    n = min(MAX_EXAMPLES, len(label))
    # Slice before converting, so a whole evaluation batch is never copied off the device.
    arrays = {
        "x": _numpy(x[:n]).astype(np.float32),
        "x_adv": _numpy(x_adv[:n]).astype(np.float32),
        "label": _numpy(label[:n]).astype(np.int64),
        "clean_pred": _numpy(clean_pred[:n]).astype(np.int64),
        "adv_pred": _numpy(adv_pred[:n]).astype(np.int64),
        "eps": np.float64(math.inf if eps is None else eps),
    }
    if arrays["x"].shape != arrays["x_adv"].shape or arrays["x"].ndim != 4:
        raise ValueError(f"examples: x and x_adv must both be N x C x H x W, got {arrays['x'].shape} and {arrays['x_adv'].shape}")
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_examples(path: Path) -> Examples | None:
    """The examples saved at ``path``, or None (with a warning) when the file is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            ex = Examples(
                x=z["x"],
                x_adv=z["x_adv"],
                label=z["label"],
                clean_pred=z["clean_pred"],
                adv_pred=z["adv_pred"],
                eps=float(z["eps"]),
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("%s: unreadable examples file, skipped (%s)", path, exc)
        return None
    n = len(ex.label)
    if ex.x.ndim != 4 or ex.x.shape != ex.x_adv.shape or not (len(ex.x) == len(ex.clean_pred) == len(ex.adv_pred) == n):
        log.warning("%s: inconsistent example arrays, skipped", path)
        return None
    return ex


def _first_readable(paths: list[Path]) -> Examples | None:
    for path in paths:
        ex = load_examples(path)
        if ex is not None:
            return ex
    return None


def strongest_attacks(summary: pd.DataFrame, available: set[tuple[str, str]] | None = None) -> dict[str, str]:
    """Per model, the attack with the lowest robust accuracy at its own largest eps (unbounded counts as largest).

    With ``available``, only (model, attack) pairs in it are considered, so the
    figure can fall back to the strongest attack that saved examples. Ties go to
    the attack listed first.
    """
    if not len(summary):
        return {}
    rows = summary[summary["attack"] != WORST]
    out: dict[str, str] = {}
    for model, g in rows.groupby("model", sort=False):
        best: tuple[float, str] | None = None
        for attack, a in g.groupby("attack", sort=False):
            if available is not None and (model, attack) not in available:
                continue
            top = a[a["eps"] == a["eps"].max()]
            acc = float(top["robust_accuracy"].min())
            if best is None or acc < best[0]:
                best = (acc, str(attack))
        if best is not None:
            out[str(model)] = best[1]
    return out


def load_strongest(run_dir: Path, summary: pd.DataFrame, outputs: set[str] | None = None) -> dict[str, tuple[str, Examples]]:
    """Model -> (attack, examples) for each model's strongest attack that has a readable examples file.

    With ``outputs`` (the shards the run planned), only those shards' examples count.
    """
    folder = run_dir / EXAMPLES_DIR
    if not folder.is_dir() or not len(summary):
        return {}
    pairs = {(str(m), str(a)) for m, a in summary[["model", "attack"]].itertuples(index=False) if a != WORST}
    loaded: Mapping[tuple[str, str], Examples | None] = {p: _first_readable(_candidates(run_dir, *p, outputs)) for p in pairs}
    available = {p for p, ex in loaded.items() if ex is not None}
    out: dict[str, tuple[str, Examples]] = {}
    for model, attack in strongest_attacks(summary, available).items():
        ex = loaded[(model, attack)]
        assert ex is not None
        out[model] = (attack, ex)
    return out
