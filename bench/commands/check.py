"""``bench check``: compare a run with a baseline and fail on robustness regressions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from bench.commands import FILE, handle_errors, run_dir_argument
from bench.reporting.gate import Tolerance


@click.command()
@run_dir_argument
@click.option("--baseline", "baseline_path", required=True, type=FILE, help="Baseline file written by `bench baseline`.")
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1),
    default=Tolerance().rate,
    show_default=True,
    help="How much worse (absolute, on [0,1]) a rate may get before it can regress.",
)
@click.option(
    "--norm-tolerance",
    type=click.FloatRange(min=0),
    default=Tolerance().norm,
    show_default=True,
    help="How much a median minimal norm may grow (relative) before it regresses.",
)
@click.option(
    "--metric",
    "patterns",
    multiple=True,
    metavar="GLOB",
    help="Compare only metric ids matching this glob, e.g. 'robust_accuracy/distilled/*'. Repeatable.",
)
@click.option(
    "--junit",
    type=FILE,
    default=None,
    help="Also write JUnit XML here: one testcase per metric, or one error case when the check is refused (exit 2).",
)
@click.option(
    "--allow-spec-change",
    is_flag=True,
    help="Compare even though the suite spec changed (its hash differs). Data and threat models must still match.",
)
@click.option("--all", "show_all", is_flag=True, help="Print every metric, not only those that are not ok.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line (and errors).")
@handle_errors
def check(
    run_dir: Path,
    baseline_path: Path,
    tolerance: float,
    norm_tolerance: float,
    patterns: tuple[str, ...],
    junit: Path | None,
    allow_spec_change: bool,
    show_all: bool,
    quiet: bool,
) -> None:
    """Compare RUN_DIR with a baseline; exit 1 if a metric regressed.

    A rate (clean accuracy, robust accuracy, attack success rate) regresses when it
    is worse than the baseline by more than --tolerance AND lies outside the
    baseline's 95% Wilson interval. Lower is worse for all of them: a falling
    success rate means an attack got weaker. A median minimal norm regresses when
    it grows by more than --norm-tolerance (relative). A metric in the baseline but
    not in the run is missing, and fails; a new metric is only reported. Each moved
    metric says who gained: "defence stronger", "attack weaker", ...

    Prints the metrics that are not ok (--all: every metric), then notes, hints and
    a verdict line (-q: the verdict line only).

    Exit codes: 0 nothing regressed, 1 regressed or missing metrics, 2 the inputs
    cannot be compared (different dataset fingerprint, threat models, or spec hash
    without --allow-spec-change) or a file is unusable; --junit is written in every
    case. With $GITHUB_STEP_SUMMARY set, a Markdown report is appended to that file.
    """
    from bench.errors import BenchError
    from bench.reporting.gate.compare import load_baseline, read_run, run_check
    from bench.reporting.gate.output import (
        hints,
        render_junit,
        render_junit_error,
        render_markdown,
        render_refusal_markdown,
        render_text,
        verdict_line,
    )

    tol = Tolerance(rate=tolerance, norm=norm_tolerance)
    try:
        base = load_baseline(baseline_path)
        current = read_run(run_dir)
        result = run_check(base, current, tol, patterns, allow_spec_change)
    except BenchError as exc:
        # A refused check must be as visible to CI as a failed one: write the JUnit and the job summary, then exit 2.
        if junit is not None:
            _write(junit, render_junit_error(str(exc), f"bench check {run_dir.name}"))
        _append_summary(render_refusal_markdown(f"bench check: {run_dir.name}", str(exc)))
        raise
    hint_lines = hints(result, str(run_dir), str(baseline_path))
    if not quiet:
        click.echo(render_text(result, tol, show_all))
        for note in result.notes:
            click.echo(f"note: {note}")
        for line in hint_lines:
            click.echo(line)
    click.echo(verdict_line(result))
    if junit is not None:
        _write(junit, render_junit(result, f"bench check {current.identity.suite}"))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        from bench.reporting.report.defences import glance_markdown

        _append_summary(render_markdown(result, tol, f"bench check: {current.identity.suite}", hint_lines, glance_markdown(run_dir)))
    if result.failed:
        sys.exit(1)


def _write(path: Path, text: str) -> None:
    from bench.errors import OutputError
    from bench.fsutil import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _append_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY when it is set (GitHub Actions sets it)."""
    from bench.errors import OutputError

    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not step_summary:
        return
    try:
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(markdown)
    except OSError as exc:
        raise OutputError(f"$GITHUB_STEP_SUMMARY {step_summary}: cannot append ({exc.strerror or exc})") from None
