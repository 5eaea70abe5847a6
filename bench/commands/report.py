"""``bench report``: redraw a run's tables and figures from its records."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import handle_errors, run_dir_argument, setup_logging


@click.command()
@run_dir_argument
@click.option("-q", "--quiet", is_flag=True, help="Warnings only: no notes on figures that do not apply.")
@handle_errors
def report(run_dir: Path, quiet: bool) -> None:
    """Redraw every table and figure of RUN_DIR from its per-sample records alone.

    Writes summary.csv/.md, clean.csv, naive_vs_adaptive.csv, flags.csv, seeds.csv,
    report.md, a self-contained report.html and plots/*.png/.svg/.pdf. Needs no models
    and no data; `bench run` calls the same code at its end. A figure that is not
    drawn is named on stderr, with why (a warning when the run's own images are missing).
    """
    from bench.reporting.report.run_report import write_report

    setup_logging(quiet)
    write_report(run_dir)
    click.echo(str(run_dir))
