"""``bench report``: redraw a run's tables and figures from its records."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import handle_errors


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@handle_errors
def report(run_dir: Path) -> None:
    """Redraw every table and figure of RUN_DIR from its per-sample records alone.

    Writes summary.csv/.md, report.md, a self-contained report.html and plots/*.png/.svg.
    Needs no models and no data; `bench run` calls the same code at its end.
    """
    from bench.reporting.run_report import write_report

    write_report(run_dir)
    click.echo(str(run_dir))
