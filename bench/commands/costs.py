"""``bench costs``: measure a finished run's costs again, on a quieter machine, without training or attacking."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import FOLDER, handle_errors, run_dir_argument, setup_logging


@click.command("costs")
@run_dir_argument
@click.option("--model", "models", multiple=True, help="Model id to measure (repeatable); default: every model of the run.")
@click.option("--data-dir", default=None, help="Where the data live (as for bench run).")
@click.option("--cache-dir", "store_root", type=FOLDER, default=None, help="Model store (as for bench run).")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda or auto.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings only.")
@handle_errors
def costs(run_dir: Path, models: tuple[str, ...], data_dir: str | None, store_root: Path | None, device: str, quiet: bool) -> None:
    """Measure RUN_DIR's model costs again (latency, and FLOPs and sizes, which do not change), then redraw its report.

    The models come from the model store under the keys the run used; nothing is trained and
    no attack runs, so the records stay exactly as they are. Only the cost files, the
    manifest's list of them, costs.csv and the reports are written. Run it on a quiet machine
    when the first measurement was flagged noisy.
    """
    from bench.pipeline.measure.remeasure import remeasure_costs
    from bench.reporting.report.run_report import write_report

    setup_logging(quiet)
    bodies = remeasure_costs(run_dir, models, data_dir, (store_root / "models") if store_root else None, device)
    for b in bodies:
        note = f"  noisy: {b['noisy_reason']}" if b.get("noisy") else ""
        large = f"{b['latency_large_ms']:.3g} ms at batch {b['large_batch']}"
        click.echo(f"{b['model']:>12}: {b['latency_batch1_ms']:.3g} ms at batch 1, {large}{note}")
    write_report(run_dir)
    click.echo(str(run_dir))
