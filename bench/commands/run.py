"""``bench run``: run a suite end to end, then say plainly which numbers can be trusted."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.commands import FILE, FOLDER, handle_errors, setup_logging, slurm_options

if TYPE_CHECKING:
    from bench.pipeline.runner import RunOptions
    from bench.results.run_folder import RunFolder
    from bench.spec.schema import SuiteSpec

log = logging.getLogger(__name__)


@click.command()
@click.argument("spec", type=FILE)
@click.option(
    "--out",
    type=FOLDER,
    default=Path("results"),
    show_default=True,
    help="Folder that receives the run folder <out>/<suite name>/ (relative to the current directory).",
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
@click.option("--cache-dir", type=FOLDER, default=None, help="Model store (default $BENCH_CACHE_DIR or ~/.cache/bench).")
@click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="auto picks CUDA when present."
)
@click.option("--force", is_flag=True, help="Recompute every attack cell (trained models are still reused).")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask", "slurm"]),
    default=None,
    envvar="BENCH_EXECUTOR",
    help="Where cells run: local (one after another, here; the default), dask, or slurm (Dask workers as Slurm jobs). "
    "[env: BENCH_EXECUTOR; default: the suite's executor.kind]",
)
@click.option(
    "--workers", type=int, default=None, help="Dask: start a LocalCluster on 127.0.0.1 with N worker processes (default: one per core)."
)
@click.option("--threads-per-worker", type=int, default=None, help="Dask, Slurm: cells each worker runs at once (default 1).")
@click.option(
    "--scheduler",
    default=None,
    envvar="BENCH_SCHEDULER",
    help="Dask: address of a running scheduler, e.g. tcp://host:8786. [env: BENCH_SCHEDULER]",
)
@click.option(
    "--torch-threads", type=int, default=None, help="Dask, Slurm: torch threads per cell (default: each worker's share of its cores)."
)
@slurm_options
@click.option("--strict", is_flag=True, help="Exit 1 when any masking or sanity check fails (also `strict: true` in the suite), for CI.")
@click.option(
    "--prune",
    is_flag=True,
    help="After a complete run, delete the records of cells this spec does not plan (other --set variants), naming them.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars, info logs or verdict table; print only the run folder.")
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
    strict: bool,
    prune: bool,
    quiet: bool,
    **slurm: Any,
) -> None:
    """Train or load the suite's models, attack them, and write tables, plots and verdicts.

    Finished cells are kept: running the same suite again recomputes only what is
    missing, so an interrupted run resumes where it stopped. Every variant of a suite
    (--set) writes into the same run folder <out>/<suite name>/; its records/ keeps the
    records of every variant, so switching back recomputes nothing, and the tables show
    the last run. The last line printed is the run folder.

    Exit codes: 0 done; 1 some cells failed, or (--strict) a check failed; 2 bad input;
    130 interrupted (finished cells are kept).
    """
    from bench.errors import ChecksFailed
    from bench.pipeline.executors import resolve
    from bench.pipeline.runner import RunOptions
    from bench.results.flags import failed_checks
    from bench.results.run_folder import RunFolder
    from bench.spec.load import load_suite

    setup_logging(quiet)
    suite = load_suite(spec, overrides)
    preflight(suite)
    opts = RunOptions(
        out=out,
        data_dir=data_dir,
        device=device,
        store_root=(cache_dir / "models") if cache_dir else None,
        force=force,
        quiet=quiet,
        prune=prune,
        executor=resolve(
            suite.executor,
            executor,
            workers=workers,
            threads_per_worker=threads_per_worker,
            scheduler=scheduler,
            torch_threads=torch_threads,
            **slurm,
        ),
    )
    note = variant_note(out.expanduser().resolve() / suite.name, suite.spec_hash())
    if note and not quiet:
        click.echo(note, err=True)
    try:
        run_dir = run_and_report(suite, opts)
    except KeyboardInterrupt:
        again = " ".join(shlex.quote(a) for a in ["bench", *sys.argv[1:]])
        click.echo(f"\ninterrupted: finished cells are saved; to resume, run the same command again: {again}", err=True)
        sys.exit(130)
    if not quiet:
        click.echo(digest(run_dir), err=True)
    if strict or suite.strict:
        failed = failed_checks(RunFolder(run_dir).flags())
        if failed:
            raise ChecksFailed(failed, str(run_dir))
    click.echo(str(run_dir))


def preflight(suite: SuiteSpec) -> None:
    """What `bench validate` checks beyond the spec, before anything costly: checkpoints that do not fit, empty comparisons."""
    from bench.commands.validate import plan_warnings
    from bench.errors import SpecError
    from bench.pipeline.models.networks import checkpoint_problems

    problems = checkpoint_problems(suite)
    if problems:
        raise SpecError("\n".join(problems))
    for line in plan_warnings(suite):
        log.warning("%s", line)


def variant_note(run_dir: Path, spec_hash: str) -> str | None:
    """A note when the run folder last held another variant of the suite: its records stay, and are reused."""
    from bench.errors import BenchError
    from bench.results.run_folder import RunFolder

    if not RunFolder.is_run_folder(run_dir):
        return None
    try:
        previous = str(RunFolder(run_dir).manifest.get("spec_hash") or "")
    except BenchError:  # an unreadable manifest is rewritten by this run; it must not stop it
        return None
    if not previous or previous == spec_hash:
        return None
    return (
        f"note: {run_dir} last held another variant of this suite (spec {previous[:12]}; this one is {spec_hash[:12]}). "
        "Its records stay in records/ and are reused if you run it again; the tables will show this variant."
    )


def run_and_report(suite: SuiteSpec, opts: RunOptions) -> Path:
    """What `bench run` does: run the cells, then draw the report, then raise if any cell failed."""
    from bench.errors import RunFailed
    from bench.pipeline.runner import run_suite
    from bench.reporting.report.run_report import write_report

    outcome = run_suite(suite, opts)
    write_report(outcome.run_dir)
    if outcome.pruned:
        # Deleting records someone paid for is never silent.
        click.echo(f"--prune: deleted {len(outcome.pruned)} file(s) of cells this spec does not plan:", err=True)
        for name in outcome.pruned:
            click.echo(f"  {name}", err=True)
    if outcome.failures:
        raise RunFailed(list(outcome.failures), str(outcome.run_dir))
    return outcome.run_dir


def digest(run_dir: Path) -> str:
    """For the terminal: per model its clean accuracy, whether its numbers can be trusted and why; then what was reused."""
    from bench.results.flags import failed_checks, model_verdicts
    from bench.results.run_folder import RunFolder

    folder = RunFolder(run_dir)
    clean = _read(run_dir / "clean.csv")
    flags = folder.flags()
    verdicts = model_verdicts(flags) if flags is not None else None
    by_model = verdicts.set_index("model").to_dict("index") if verdicts is not None else {}
    lines = ["", f"{'model':20s} {'clean accuracy':>15s}  {'reliable':8s}  verdicts"]
    for row in clean:
        v = by_model.get(row["model"])
        if v is None:
            lines.append(f"{row['model']:20s} {float(row['clean_accuracy']):15.2%}  {'-':8s}  not attacked")
            continue
        sanity = f"sanity fail: {v['failed_sanity']}" if v["failed_sanity"] else "no sanity check failed"
        reliable = "NO" if v["unreliable"] else "yes"
        lines.append(f"{row['model']:20s} {float(row['clean_accuracy']):15.2%}  {reliable:8s}  masking {v['masking']}; {sanity}")
    for who, message in failed_checks(flags) if flags is not None else []:
        lines.append(f"  fail  {who}: {message}")
    lines.append(reuse_line(folder.manifest))
    other = _other_variants(folder)
    if other:
        lines.append(f"records/: {other} file(s) of other variants kept, reused if you run them again (`bench run --prune` deletes them)")
    lines.append(f"summary: {run_dir / 'summary.md'}")
    return "\n".join(lines)


def _read(path: Path) -> list[dict[str, str]]:
    """A small CSV as rows of strings (the digest needs no pandas)."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def reuse_line(manifest: dict[str, Any]) -> str:
    """``cells: 0 computed, 15 reused; models: 3 from the store``: so a cached run says it was cached."""
    origins = [str((c or {}).get("origin")) for c in (manifest.get("cells") or {}).values()]
    n = {o: origins.count(o) for o in set(origins)}
    models = ", ".join(
        f"{n[o]} {label}"
        for o, label in [("trained", "trained"), ("cache", "from the store"), ("checkpoint", "from checkpoints")]
        if n.get(o)
    )
    return f"cells: {n.get('ran', 0)} computed, {n.get('done', 0)} reused from earlier runs; models: {models or 'none'}"


def _other_variants(folder: RunFolder) -> int:
    """How many shards on disk the last run did not plan: other variants' records, kept for reuse."""
    planned = folder.outputs
    if planned is None:
        return 0
    return sum(1 for sub in ("records", "diagnostics") for p in (folder.path / sub).glob("*.csv") if p.name not in planned)
