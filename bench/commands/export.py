"""``bench export``: a run's results in another tool's format: LaTeX or CSV tables for a paper, RobustBench entries."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.commands import handle_errors, run_dir_argument, setup_logging


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
