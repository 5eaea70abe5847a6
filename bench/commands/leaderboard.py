"""``bench leaderboard``: rank the models of several runs by worst-case robust accuracy."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import handle_errors


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--eps", type=float, default=None, help="Budget to rank at (default: the largest eps every ranked model was evaluated at).")
@click.option("--norm", type=click.Choice(["linf", "l2", "l0"]), default="linf", show_default=True, help="Threat model.")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "html"]), default="md", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE instead of stdout.")
@handle_errors
def leaderboard(run_dirs: tuple[Path, ...], eps: float | None, norm: str, fmt: str, output: Path | None) -> None:
    """One row per model across RUN_DIRS, ranked by per-sample worst-case robust accuracy.

    Columns: rank (1 + the models whose 95% interval lies entirely above; overlapping
    intervals share a rank), samples and attacks behind each row, clean accuracy, robust
    accuracy per attack family, worst case, naive-vs-adaptive gap, flag counts, unreliable
    (a masking or sanity check failed: listed last, unranked, with why), date and spec
    hash. Runs are ranked
    together only when their dataset, evaluation set (fingerprint), threat model and
    attack set (keys, views, parameters, sample counts) agree; any other run gets its
    own labelled table. Runs with no eps in common for the norm are refused (exit 2).
    """
    from bench.errors import OutputError
    from bench.fsutil import atomic_write_text
    from bench.reporting.leaderboard import build_leaderboards, load_run, render

    boards = build_leaderboards([load_run(d) for d in run_dirs], norm, eps)
    text = render(boards, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        atomic_write_text(output.expanduser().resolve(), text)
    except OSError as exc:
        raise OutputError(f"{output}: cannot write ({exc.strerror or exc})") from None
    click.echo(str(output))
