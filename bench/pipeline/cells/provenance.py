"""What produced a run: versions, git commit, device, seeds and times."""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import time
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

import bench
from bench.fsutil import atomic_write_text
from bench.results.run_folder import provenance_path

if TYPE_CHECKING:
    from bench.pipeline.cells.workspace import Workspace

PACKAGES = ("torch", "torchvision", "torchattacks", "adversarial-robustness-toolbox", "numpy", "pandas", "pydantic")


def now() -> str:
    """The current UTC time in ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Installed versions of bench and the packages whose numbers it depends on."""
    out = {"bench": bench.__version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@cache
def git_commit() -> str | None:
    """The commit of the bench source tree, if it is a git checkout."""
    here = Path(bench.__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def cell_provenance(device: torch.device, seconds: float) -> dict[str, Any]:
    """When, where and with what one cell was computed; a reused cell keeps the record of its own computation."""
    return {
        "computed_at": now(),
        "seconds": round(seconds, 2),
        "host": platform.node(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "versions": versions(),
        "git_commit": git_commit(),
    }


def resolve_device(name: str, remote: bool = False) -> torch.device:
    """``auto`` picks CUDA when it is present. ``remote``: the cells run on other machines (Slurm jobs, a running
    scheduler's workers), so ``cuda`` need not be present here; the workers that run GPU cells check it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not remote and not torch.cuda.is_available():
        from bench.errors import BenchError

        raise BenchError("--device cuda: no CUDA device is available")
    return torch.device(name)


def record_provenance(ws: Workspace, output: str, start: float) -> dict[str, Any]:
    """Write the provenance of the cell output ``output`` (relative to the run folder), started at ``start``; return it."""
    prov = cell_provenance(ws.device, time.perf_counter() - start)
    atomic_write_text(provenance_path(ws.paths.run_dir, output), json.dumps(prov, indent=2, sort_keys=True) + "\n")
    return prov
