"""One module per CLI subcommand, plus the shared error decorator.

Modules:

* ``run``: ``bench run``: run a suite end to end, then say plainly which numbers can be trusted.
* ``validate``: ``bench validate``: check a spec without running it, and print its plan and what it will not show.
* ``describe``: ``bench describe``: one attack's parameters (type, default, meaning), and the helpers `bench ls` shares.
* ``ls``: ``bench ls``: list registered attacks, architectures or datasets, and where each came from.
* ``publish``: ``bench report``, ``bench export`` and ``bench site``: documents drawn from a run's records alone, no torch.
* ``leaderboard``: ``bench leaderboard``: rank the models of several runs by worst-case robust accuracy.
* ``baseline``: ``bench baseline``: record a run's metrics as the baseline ``bench check`` compares against.
* ``check``: ``bench check``: compare a run with a baseline and fail on robustness regressions.
* ``attack_test``: ``bench attack-test``: the binarization test of a finished run's attacks (an attack unit test).
* ``costs``: ``bench costs``: measure a finished run's costs again, on a quieter machine, without training or attacking.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bench.errors import BenchError, RunFailed

F = TypeVar("F", bound=Callable[..., Any])

FOLDER = click.Path(file_okay=False, path_type=Path)
"""The type of every argument or option that names a folder (a run folder, an output folder, a model store)."""
FILE = click.Path(dir_okay=False, path_type=Path)
"""The type of every argument or option that names a file (a suite, a baseline, an output file)."""
run_dir_argument = click.argument("run_dir", type=FOLDER)
"""The ``RUN_DIR`` argument of the commands that read a finished run folder."""


def handle_errors(func: F) -> F:
    """Turn domain errors into a one-line message and an exit code; bugs keep their traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BenchError as exc:
            # One line per problem: a spec with three mistakes reports all three at once.
            for line in str(exc).splitlines() or [""]:
                click.echo(f"error: {line}", err=True)
            sys.exit(exc.exit_code)
        except RunFailed as exc:
            click.echo(f"error: {len(exc.failures)} {exc.what}:", err=True)
            for cell, why in exc.failures:
                click.echo(f"  - {cell}: {why}", err=True)
            click.echo(exc.run_dir)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def setup_logging(quiet: bool) -> None:
    """INFO to stderr, or warnings only with -q."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )
    # ART logs its own success rates at INFO, judged on its own terms; bench's numbers are the ones to read.
    logging.getLogger("art").setLevel(logging.WARNING)
    # matplotlib's PDF backend subsets every TrueType font through fontTools, which logs each table it prunes.
    logging.getLogger("fontTools").setLevel(logging.WARNING)


# `bench run` and `bench validate` take the same Slurm options: validate prints the job script run would submit.
SLURM_OPTIONS = (
    click.option("--jobs", type=int, default=None, help="Slurm: worker jobs to submit (default 1); each runs one Dask worker."),
    click.option("--cores-per-job", type=int, default=None, help="Slurm: CPUs per job, #SBATCH --cpus-per-task (default 1)."),
    click.option("--memory-per-job", default=None, help="Slurm: memory per job, e.g. 4GB (#SBATCH --mem; default 2GB)."),
    click.option("--walltime", default=None, help="Slurm: time limit per job, e.g. 04:00:00 (#SBATCH -t; default: the partition's)."),
    click.option("--partition", default=None, help="Slurm: partition to submit to (#SBATCH -p; default: the cluster's default)."),
    click.option("--account", default=None, help="Slurm: account to charge (#SBATCH -A)."),
    click.option(
        "--sbatch",
        "sbatch",
        multiple=True,
        metavar="DIRECTIVE",
        help="Slurm: an extra #SBATCH directive, e.g. --sbatch=--qos=short. Repeatable.",
    ),
    click.option("--gpus-per-job", type=int, default=None, help="Slurm: GPUs per job (#SBATCH --gpus; Dask resource GPU on its worker)."),
)


def slurm_options(func: F) -> F:
    """Add the Slurm options (``--jobs``, ``--cores-per-job``, ... ``--gpus-per-job``) to a command."""
    for option in reversed(SLURM_OPTIONS):
        func = option(func)
    return func
