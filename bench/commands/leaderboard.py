"""``bench leaderboard``: rank the models of several runs by worst-case robust accuracy."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import FILE, FOLDER, handle_errors


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=FOLDER)
@click.option("--eps", type=float, default=None, help="Budget to rank at (default: the largest eps every ranked model was evaluated at).")
@click.option("--norm", type=click.Choice(["linf", "l2", "l0"]), default="linf", show_default=True, help="Threat model.")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "html"]), default="md", show_default=True, help="Output format.")
@click.option(
    "--sort",
    type=click.Choice(["rank", "params", "flops", "latency", "train"]),
    default="rank",
    show_default=True,
    help="Order rows by a cost, smallest first (ranks stay those of the worst case; unreliable models stay last).",
)
@click.option("--max-params", type=click.FloatRange(min=0), default=None, help="Only models with at most this many parameters.")
@click.option("--max-flops", type=click.FloatRange(min=0), default=None, help="Only models with at most this many FLOPs per sample.")
@click.option(
    "--max-latency-ms", type=click.FloatRange(min=0), default=None, help="Only models whose measured batch-1 latency is at most this."
)
@click.option("-o", "--output", type=FILE, default=None, help="Write to FILE instead of stdout.")
@handle_errors
def leaderboard(
    run_dirs: tuple[Path, ...],
    eps: float | None,
    norm: str,
    fmt: str,
    sort: str,
    max_params: float | None,
    max_flops: float | None,
    max_latency_ms: float | None,
    output: Path | None,
) -> None:
    """One row per model across RUN_DIRS, ranked by per-sample worst-case robust accuracy.

    Columns: rank (1 + the models whose 95% interval lies entirely above; overlapping
    intervals share a rank), samples and attacks behind each row, clean accuracy, robust
    accuracy per attack family, worst case, naive-vs-adaptive gap, cost (parameters, FLOPs
    per sample, measured batch-1 latency, training seconds including teachers), flag counts,
    unreliable (a masking or sanity check failed: listed last, unranked, with why), date and
    spec hash. A budget (--max-params, --max-flops, --max-latency-ms) keeps only the models
    within it before ranking; a model whose cost was not measured fits no budget. Runs are ranked
    together only when their dataset, evaluation set (fingerprint), threat model and
    attack set (keys, views, parameters, sample counts) agree; any other run gets its
    own labelled table. Runs with no eps in common for the norm are refused (exit 2).
    """
    from bench.errors import OutputError
    from bench.fsutil import atomic_write_text
    from bench.reporting.leaderboard.board import build_leaderboards, load_run, render
    from bench.reporting.leaderboard.costs import CostOptions

    costs = CostOptions(sort, max_params, max_flops, max_latency_ms)
    boards = build_leaderboards([load_run(d) for d in run_dirs], norm, eps, costs)
    text = render(boards, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        atomic_write_text(output.expanduser().resolve(), text)
    except OSError as exc:
        raise OutputError(f"{output}: cannot write ({exc.strerror or exc})") from None
    click.echo(str(output))
