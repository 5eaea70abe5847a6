"""``bench site``: a static, offline leaderboard site from run folders and RobustBench entries."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import FOLDER, handle_errors, setup_logging


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", type=FOLDER, required=True, help="The folder to write the site to (new, empty, or an earlier site).")
@click.option("--title", default="bench leaderboard", show_default=True, help="The index page's title.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings only.")
@handle_errors
def site(inputs: tuple[Path, ...], out: Path, title: str, quiet: bool) -> None:
    """A static site of the models in INPUTS: run folders, and RobustBench JSON entries (files or folders of them).

    The index has one table per dataset, threat model and eps, grouped and ranked as
    `bench leaderboard` ranks (unreliable models listed with why, never ranked), sortable
    by any column and filterable by text; each model has a page with its recipe, teacher
    chain, checkpoint digest, attacks with every parameter, sample counts and seeds, checks,
    defences figure and provenance, linked to its run's report and per-sample records.
    RobustBench entries (model_info/<dataset>/<Linf|L2|L1>/<Name>.json) are shown as
    reported rows, apart from the measured ones. The folder needs nothing outside itself and
    no network: open OUT/index.html from disk or serve it. Built from the records alone.
    """
    from bench.reporting.site.build import build_site

    setup_logging(quiet)
    summary = build_site(list(inputs), out, title)
    click.echo(f"{summary.out / 'index.html'}: {summary.pages} pages, {summary.groups} group(s), {summary.reported} reported")
