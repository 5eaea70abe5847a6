"""What an attack recorded about itself, per sample: its loss trace, which sub-attack broke each sample, ...

An attack may call ``Attack.record`` while it runs; the attack cell saves what was
recorded as ``details/<shard>.npz``, named like the cell's records shard (key
included), before the shard itself, so a finished cell's details are complete.
Each budget the attack ran at is one entry: its eps (inf for a minimum-norm
attack's single run), the samples, and the arrays (first axis: samples). The file
is optional, like the examples: the indicators, the AutoAttack breakdown and the
loss-trace figure use it where it exists and say nothing where it does not.
"""

from __future__ import annotations

import io
import logging
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

DETAILS_DIR = "details"


@dataclass(frozen=True)
class Details:
    """One attack cell's recorded arrays at one budget."""

    model: str
    attack: str
    use: str
    eps: float
    sample: np.ndarray
    arrays: dict[str, np.ndarray]


def details_path(run_dir: Path, shard: str) -> Path:
    """Where the details of the attack cell whose records shard is ``shard`` (a file name) live."""
    return run_dir / DETAILS_DIR / f"{Path(shard).stem}.npz"


def save_details(path: Path, meta: dict[str, str], sample: Any, entries: list[tuple[float | None, dict[str, Any]]]) -> None:
    """Save one cell's details atomically; ``entries`` are (eps or None for unbounded, arrays) per budget."""
    out: dict[str, Any] = {f"meta_{k}": np.str_(v) for k, v in meta.items()}
    out["sample"] = np.asarray(sample, dtype=np.int64)
    out["eps"] = np.array([math.inf if e is None else float(e) for e, _ in entries], dtype=np.float64)
    for i, (_, arrays) in enumerate(entries):
        for name, arr in arrays.items():
            out[f"{name}@{i}"] = np.asarray(arr)
    buf = io.BytesIO()
    np.savez_compressed(buf, **out)
    atomic_write_bytes(path, buf.getvalue())


def load_details(path: Path) -> list[Details]:
    """The entries saved at ``path``; an unreadable file gives none (with a warning)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            files = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        log.warning("%s: unreadable details file, skipped (%s)", path, exc)
        return []
    meta = {k[5:]: str(v) for k, v in files.items() if k.startswith("meta_")}
    entries = []
    for i, eps in enumerate(files.get("eps", np.zeros(0))):
        arrays = {k.rsplit("@", 1)[0]: v for k, v in files.items() if k.endswith(f"@{i}")}
        entries.append(Details(meta.get("model", ""), meta.get("attack", ""), meta.get("use", ""), float(eps), files["sample"], arrays))
    return entries


def read_details(run_dir: Path, outputs: set[str] | None = None) -> list[Details]:
    """Every details entry of the run's planned attack cells (all on disk when ``outputs`` is None)."""
    folder = run_dir / DETAILS_DIR
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.npz"))
    if outputs is not None:
        planned = {Path(o).stem for o in outputs}
        paths = [p for p in paths if p.stem in planned]
    return [d for p in paths for d in load_details(p)]
