"""A run folder's outputs as comparable text: what two runs of one suite on two executors must share."""

from __future__ import annotations

import json
from pathlib import Path


def without_seconds(path: Path) -> list[str]:
    """A shard's lines less their last column, seconds: wall-clock time, the one thing a rerun cannot reproduce."""
    return [line.rsplit(",", 1)[0] for line in path.read_text().splitlines()]


def outputs(run_dir: Path) -> dict[str, list[str]]:
    """Every records and diagnostics shard of ``run_dir``, by folder/name, without seconds."""
    return {f"{d}/{p.name}": without_seconds(p) for d in ("records", "diagnostics") for p in sorted((run_dir / d).glob("*.csv"))}


def manifest(run_dir: Path) -> dict:
    """The run folder's manifest."""
    return json.loads((run_dir / "manifest.json").read_text())
