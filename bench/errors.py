"""Domain errors. The CLI turns every ``BenchError`` into a one-line message.

``BenchError`` and its subclasses mean *bad input* (exit code 2): the user can
fix them without touching the code. Failures during a run are collected into a
``RunFailed`` (exit code 1). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class BenchError(Exception):
    """Bad input that the user can fix; shown as one line, exit code 2."""

    exit_code = 2


class SpecError(BenchError):
    """The suite spec is malformed or inconsistent."""


class DataError(BenchError):
    """A dataset is missing, corrupt or unusable."""


class CacheError(BenchError):
    """A cached or user-supplied artifact cannot be used."""


class OutputError(BenchError):
    """The output folder cannot be created or written."""


class BaselineError(BenchError):
    """A baseline or run folder is unusable, or the two cannot be compared (different data, threat model or spec)."""


class RunFailed(Exception):
    """One or more cells of a run failed; the others finished (exit code 1)."""

    exit_code = 1
    what = "cell(s) failed"

    def __init__(self, failures: list[tuple[str, str]], run_dir: str) -> None:
        self.failures = failures
        self.run_dir = run_dir
        lines = "; ".join(f"{cell}: {why}" for cell, why in failures)
        super().__init__(f"{len(failures)} {self.what}: {lines}")


class ChecksFailed(RunFailed):
    """`bench run --strict`: the run finished, but a masking or sanity check failed (exit code 1)."""

    what = "check(s) failed (--strict)"


class PluginError(BenchError):
    """A plug-in (entry point or ``plugins:`` module) cannot be loaded or clashes with another."""


class ExecutorError(BenchError):
    """The executor cannot run: a bad flag combination, Dask not installed, or a scheduler that cannot be reached."""
