"""``bench baseline``: record a run's metrics as the baseline ``bench check`` compares against."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import FILE, handle_errors, run_dir_argument


@click.command()
@run_dir_argument
@click.option("-o", "--output", required=True, type=FILE, help="Baseline file to write (JSON), e.g. baselines/smoke.json.")
@handle_errors
def baseline(run_dir: Path, output: Path) -> None:
    """Write RUN_DIR's metrics and identity to a baseline file for `bench check`.

    Records clean accuracy per model; robust accuracy and attack success rate per
    model x attack x eps (worst case included); the median minimal norm of each
    minimum-norm attack; each with its sample count. Also the suite, spec hash,
    dataset fingerprints, threat models and bench version. Keys are sorted and
    values rounded to 4 decimals, so the file diffs well under review.
    """
    from bench.errors import BaselineError
    from bench.fsutil import atomic_write_text
    from bench.reporting.gate.compare import read_run

    snap = read_run(run_dir)
    if snap.status != "complete":
        raise BaselineError(
            f"{run_dir}: the run's status is '{snap.status}', not 'complete'; "
            "finish it (run the same `bench run` again) before recording a baseline"
        )
    atomic_write_text(output, snap.to_json())
    ident = snap.identity
    click.echo(
        f"{output}: {len(snap.metrics)} metrics of suite '{ident.suite}' "
        f"(spec {ident.spec_hash[:12]}, {ident.dataset} {ident.eval_fingerprint[:12]})"
    )
