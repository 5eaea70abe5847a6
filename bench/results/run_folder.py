"""The one reader of a run folder: what a run folder is, what it holds, and which cells are done.

A run folder is what ``bench run`` writes: ``manifest.json`` (what was run, by
whom, how it went), ``records/`` (one CSV shard per finished cell, the source of
truth), ``diagnostics/`` (per-sample masking diagnostics), and the tables,
figures and reports computed from them. Report, leaderboard and gate read it
through ``RunFolder`` only, so "is this a run folder" has one answer and one
error message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import BenchError
from bench.results.records import read_diagnostics, read_records

MANIFEST = "manifest.json"
RECORDS = "records"
DIAGNOSTICS = "diagnostics"
FLAGS = "flags.csv"
PROVENANCE = "provenance"


def provenance_path(run_dir: Path, output: str) -> Path:
    """Where the provenance of the cell that wrote ``output`` (a path relative to the run folder) lives."""
    return run_dir / PROVENANCE / f"{Path(output).name}.json"


class RunFolder:
    """A run folder on disk; every accessor reads lazily and fails with a one-line ``BenchError``."""

    def __init__(self, path: Path) -> None:
        if not self.is_run_folder(path):
            raise BenchError(f"{path}: not a bench run folder (no {RECORDS}/ folder; `bench run` creates it before any cell runs)")
        self.path = path

    @staticmethod
    def is_run_folder(path: Path) -> bool:
        """Whether ``path`` is a run folder: ``bench run`` creates ``records/`` before anything else."""
        return (path / RECORDS).is_dir()

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The manifest, or {} when it is missing (tables can still be drawn from records)."""
        path = self.path / MANIFEST
        if not path.exists():
            return {}
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BenchError(f"{path}: unreadable manifest ({type(exc).__name__}: {exc})") from None
        if not isinstance(body, dict):
            raise BenchError(f"{path}: unreadable manifest (not a JSON object)")
        return body

    def require_manifest(self, why: str) -> dict[str, Any]:
        """The manifest, or a ``BenchError`` saying what it is needed for."""
        if not self.manifest:
            raise BenchError(f"{self.path}: no {MANIFEST}, so {why}")
        return self.manifest

    @property
    def suite(self) -> str:
        """The suite's name (the folder's name when there is no manifest)."""
        return str(self.manifest.get("suite") or self.path.name)

    @property
    def status(self) -> str:
        """``complete``, ``failed``, ``interrupted``, ``running`` or ``error: ...``; ``unknown`` without a manifest."""
        return str(self.manifest.get("status", "unknown"))

    @property
    def outputs(self) -> set[str] | None:
        """The file names the last run planned (records and diagnostics), or None for a folder that does not list them.

        A shard on disk that the last run did not plan (an older key of a cell that
        has since failed, been edited or been recomputed elsewhere) is kept, but is
        never read into a table: a failed cell shows as missing, not as stale numbers.
        """
        listed = self.manifest.get("outputs")
        return set(listed) if isinstance(listed, list) else None

    def records(self) -> pd.DataFrame:
        """Every per-sample record of the run's planned cells."""
        return read_records(self.path, self.outputs)

    def diagnostics(self) -> pd.DataFrame:
        """Every per-sample diagnostics row of the run's planned cells."""
        return read_diagnostics(self.path, self.outputs)

    def provenance(self, output: str) -> dict[str, Any] | None:
        """When, where and with what the cell that wrote ``output`` was computed, or None when it was not recorded."""
        try:
            body = json.loads(provenance_path(self.path, output).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return body if isinstance(body, dict) else None

    def flags(self) -> pd.DataFrame | None:
        """``flags.csv`` as strings, or None when the report has not been written yet."""
        path = self.path / FLAGS
        return pd.read_csv(path, keep_default_na=False, dtype=str) if path.is_file() else None

    def is_done(self, outputs: Iterable[str]) -> bool:
        """The one "is this cell done" predicate: every file the cell writes exists (writes are atomic)."""
        return all((self.path / rel).is_file() for rel in outputs)
