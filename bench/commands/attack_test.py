"""``bench attack-test``: the binarization test of a finished run's attacks (an attack unit test)."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import FOLDER, handle_errors, run_dir_argument, setup_logging


@click.command("attack-test")
@run_dir_argument
@click.option("--attack", "attacks", multiple=True, help="Attack id to test (repeatable); default: every gradient attack.")
@click.option("-n", "--n-samples", type=click.IntRange(min=1), default=20, show_default=True, help="Evaluation samples per model.")
@click.option(
    "--n-inner",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Inner points of the eps-ball per sample (the paper: 999).",
)
@click.option("--data-dir", default=None, help="Where the data live (as for bench run).")
@click.option("--cache-dir", "store_root", type=FOLDER, default=None, help="Model store (as for bench run).")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda or auto.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings only.")
@handle_errors
def attack_test(
    run_dir: Path,
    attacks: tuple[str, ...],
    n_samples: int,
    n_inner: int,
    data_dir: str | None,
    store_root: Path | None,
    device: str,
    quiet: bool,
) -> None:
    """Binarization test (Zimmermann et al. 2022) of RUN_DIR's attacks, then redraw its report.

    For each model and gradient attack, on the first N evaluation samples: the model's readout
    is replaced by a binary one for which an adversarial example within the attack's largest
    eps is guaranteed, and the attack must find it. An attack passes on a model when it finds
    it on 90% of the feasible samples. Writes attack_tests.csv; the report and flags.csv show it.
    """
    from bench.pipeline.measure.binarization import run_attack_tests
    from bench.reporting.report.run_report import write_report

    setup_logging(quiet)
    frame = run_attack_tests(run_dir, attacks, n_samples, data_dir, (store_root / "models") if store_root else None, device, n_inner)
    for r in frame.itertuples():
        click.echo(f"{r.model:>12} {r.attack:<16} {r.norm} eps {r.eps:g}: {r.n_found}/{r.n_feasible} found -> {r.verdict}")
    write_report(run_dir)
    click.echo(str(run_dir))
