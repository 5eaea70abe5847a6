"""``bench report``, ``bench export`` and ``bench site``: documents drawn from a run's records alone, no torch.

* ``report``: redraw a run's tables and figures (summary, report.md/.html, plots);
* ``export``: a run's results in another tool's format: LaTeX or CSV tables for a paper, RobustBench entries;
* ``site``: a static, offline leaderboard site from run folders and RobustBench entries.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.commands import FOLDER, handle_errors, run_dir_argument, setup_logging


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


@click.command()
@run_dir_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["latex", "csv", "robustbench"]),
    required=True,
    help="latex: one .tex file of booktabs tables; csv: the same tables, one file each; robustbench: one JSON entry per model.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="latex: the .tex file to write; csv and robustbench: the folder to write into (created if missing).",
)
@click.option(
    "--eps",
    type=float,
    default=None,
    help="robustbench only: the budget to export at (default: per norm, the largest eps every model was evaluated at, as "
    "`bench leaderboard` chooses it).",
)
@click.option(
    "--norm",
    type=click.Choice(["linf", "l2"]),
    default=None,
    help="robustbench only: export this threat model alone (default: every one the run attacked at a finite eps).",
)
@click.option("-q", "--quiet", is_flag=True, help="Warnings only.")
@handle_errors
def export(run_dir: Path, fmt: str, out: Path, eps: float | None, norm: str | None, quiet: bool) -> None:
    """Write RUN_DIR's results for a paper or for RobustBench, from its records alone (no torch, no models, no data).

    --format latex writes the report's "At a glance" and "Defences" tables to OUT (a .tex
    file to \\input; needs \\usepackage{booktabs}): rates with their 95% intervals, the best
    number of a reliable model in bold, unreliable models marked with a dagger, every
    string escaped. --format csv writes the same tables to OUT/at_a_glance.csv and
    OUT/defences.csv. --format robustbench writes OUT/model_info/<dataset>/<threat>/<model>.json
    per model and norm with RobustBench's fields: clean_acc, autoattack_acc (AutoAttack's
    number where it ran, else bench's worst case; the footnote says which), unreliable
    (true exactly when `bench leaderboard` does not rank the model) and reported (the
    suite's `claimed` number). Figures are in RUN_DIR/plots/ as PDF already (`bench report`).
    """
    from bench.errors import OutputError
    from bench.fsutil import atomic_write_text
    from bench.results.run_folder import RunFolder

    setup_logging(quiet)
    if (eps is not None or norm is not None) and fmt != "robustbench":
        raise click.UsageError("--eps and --norm apply to --format robustbench only (the tables show every budget)")
    out = out.expanduser().resolve()
    files: dict[Path, str] = {}
    if fmt == "robustbench":
        from bench.reporting.export.robustbench import robustbench_entries
        from bench.reporting.leaderboard.board import load_run

        run = load_run(run_dir)
        entries = robustbench_entries(run, RunFolder(run_dir).manifest.get("spec"), eps, norm)
        if not entries:
            what = f"at {norm}" if norm else "at a finite eps"
            raise OutputError(f"{run_dir}: no model was attacked {what}, so there is no RobustBench entry to write")
        files = {out / p: json.dumps(e, indent=2, ensure_ascii=False) + "\n" for p, e in entries.items()}
    else:
        from bench.reporting.export.paper import paper_tables, reliability, to_csv, to_latex
        from bench.reporting.report.run_report import read_tables

        folder = RunFolder(run_dir)
        _, _, t = read_tables(folder)
        tables, unreliable = paper_tables(folder, t), reliability(t)
        if fmt == "latex":
            files = {out: to_latex(folder, tables, unreliable)}
        else:
            files = {out / name: text for name, text in to_csv(tables, unreliable).items()}
    for path, text in files.items():
        if path.is_dir():
            raise OutputError(f"{path}: is a folder; --format {fmt} writes a file there")
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    for path in files:
        click.echo(str(path))


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", type=FOLDER, required=True, help="The folder to write the site to (new, empty, or an earlier site).")
@click.option("--title", default="bench leaderboard", show_default=True, help="The index page's title.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings only.")
@handle_errors
def site(inputs: tuple[Path, ...], out: Path, title: str, quiet: bool) -> None:
    """A static site of the models in INPUTS: run folders (or folders of them), and RobustBench JSON entries (files or folders of them).

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
