"""``bench run``: run a suite end to end."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bench.commands import handle_errors, setup_logging

if TYPE_CHECKING:
    from bench.pipeline.runner import RunOptions
    from bench.spec.schema import SuiteSpec


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Folder that receives the run folder <out>/<suite name>/.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec value, e.g. --set models.distilled.train.epochs=1 or --set dataset.eval_size=100. Repeatable.",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, help="Folder holding datasets (overrides the spec and $BENCH_DATA_DIR)."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Model store (default $BENCH_CACHE_DIR or ~/.cache/bench).",
)
@click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="auto picks CUDA when present."
)
@click.option("--force", is_flag=True, help="Recompute every attack cell (trained models are still reused).")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default=None,
    envvar="BENCH_EXECUTOR",
    help="Where cells run: local (one after another, here; the default) or dask. [env: BENCH_EXECUTOR; default: the suite's executor.kind]",
)
@click.option(
    "--workers", type=int, default=None, help="Dask: start a LocalCluster on 127.0.0.1 with N worker processes (default: one per core)."
)
@click.option("--threads-per-worker", type=int, default=None, help="Dask: cells each local worker runs at once (default 1).")
@click.option(
    "--scheduler",
    default=None,
    envvar="BENCH_SCHEDULER",
    help="Dask: address of a running scheduler, e.g. tcp://host:8786. [env: BENCH_SCHEDULER]",
)
@click.option("--torch-threads", type=int, default=None, help="Dask: torch threads per cell (default: each worker's share of its cores).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or info logs; print only the run folder.")
@handle_errors
def run(
    spec: Path,
    out: Path,
    overrides: tuple[str, ...],
    data_dir: str | None,
    cache_dir: Path | None,
    device: str,
    force: bool,
    executor: str | None,
    workers: int | None,
    threads_per_worker: int | None,
    scheduler: str | None,
    torch_threads: int | None,
    quiet: bool,
) -> None:
    """Train or load the suite's models, attack them, and write tables and plots.

    Finished cells are kept: running the same suite again recomputes only what is
    missing, so an interrupted run resumes where it stopped. The last line printed
    is the run folder, which holds manifest.json, records/, summary.csv, summary.md,
    flags.csv and plots/.
    """
    from bench.pipeline.executors import resolve
    from bench.pipeline.runner import RunOptions
    from bench.spec.load import load_suite

    setup_logging(quiet)
    suite = load_suite(spec, overrides)
    opts = RunOptions(
        out=out,
        data_dir=data_dir,
        device=device,
        store_root=(cache_dir / "models") if cache_dir else None,
        force=force,
        quiet=quiet,
        executor=resolve(suite.executor, executor, workers, threads_per_worker, scheduler, torch_threads),
    )
    try:
        run_dir = run_and_report(suite, opts)
    except KeyboardInterrupt:
        again = " ".join(shlex.quote(a) for a in ["bench", *sys.argv[1:]])
        click.echo(f"\ninterrupted: finished cells are saved; to resume, run the same command again: {again}", err=True)
        sys.exit(130)
    if not quiet:
        click.echo(digest(run_dir), err=True)
    click.echo(str(run_dir))


def run_and_report(suite: SuiteSpec, opts: RunOptions) -> Path:
    """What `bench run` does: run the cells, then draw the report, then raise if any cell failed."""
    from bench.errors import RunFailed
    from bench.pipeline.runner import run_suite
    from bench.reporting.run_report import write_report

    outcome = run_suite(suite, opts)
    write_report(outcome.run_dir)
    if outcome.failures:
        raise RunFailed(list(outcome.failures), str(outcome.run_dir))
    return outcome.run_dir


def digest(run_dir: Path) -> str:
    """A few lines for the terminal: clean accuracy and the masking verdict per model."""
    import pandas as pd

    clean = pd.read_csv(run_dir / "clean.csv")
    flags = pd.read_csv(run_dir / "flags.csv")
    verdicts = flags[flags["check"] == "gradient-masking"].set_index("model")["message"].to_dict()
    lines = ["", f"{'model':20s} {'clean accuracy':>15s}  gradient masking"]
    for row in clean.itertuples():
        lines.append(f"{row.model:20s} {row.clean_accuracy:15.2%}  {verdicts.get(row.model, '-')}")
    lines.append(f"summary: {run_dir / 'summary.md'}")
    return "\n".join(lines)
