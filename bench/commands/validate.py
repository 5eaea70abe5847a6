"""``bench validate``: check a spec without running it."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import handle_errors


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec value before validating.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Also print the critical path and the ideal wall time on N workers, from the same cost model.",
)
@handle_errors
def validate(spec: Path, overrides: tuple[str, ...], workers: int | None) -> None:
    """Check SPEC (fields, ids, teachers, attack keys and params, eps) and print the plan.

    Nothing is trained, downloaded or written. Exit code 2 with a one-line message
    naming the YAML path when the spec is invalid. With --workers N, size a cluster
    before running: the longest chain of dependent cells and the wall time N workers
    would need with no scheduling overhead.
    """
    from bench.spec.load import load_suite
    from bench.spec.plan import attack_plan, cell_graph, critical_path, estimate_cost, ideal_wall_time
    from bench.spec.schema import view_name

    suite = load_suite(spec, overrides)
    click.echo(f"{spec}: ok (suite '{suite.name}', spec hash {suite.spec_hash()[:12]})")
    click.echo(f"dataset: {suite.dataset.name}, eval {suite.dataset.eval_size} samples, train {suite.dataset.train_size or 'all'}")
    for m in suite.models:
        extra = f", teacher {m.teacher}" if m.teacher else ""
        attacked = "" if m.evaluate else ", not attacked"
        click.echo(f"model {m.id}: {m.kind} {m.arch}, T={m.train.temperature:g}, {m.train.epochs} epochs{extra}{attacked}")
    for a in suite.attacks:
        eps = ", ".join(f"{e:g}" for e in a.eps) or "unbounded"
        src = f", crafted on {a.source}" if a.source else ""
        click.echo(f"attack {a.id}: {a.use} ({a.tag}, view {view_name(a.view)}, {a.norm}, eps {eps}{src})")
    cells = attack_plan(suite)
    train, attack = estimate_cost(suite, cells)
    click.echo(f"cells: {len(suite.models)} training, {len(cells)} attack")
    click.echo(f"rough cost on 2 CPU cores: training ~{train / 60:.1f} min, attacks ~{attack / 60:.1f} min (cold)")
    if workers is not None:
        graph = cell_graph(suite)
        chain, longest = critical_path(graph)
        total = sum(c.cost for c in graph)
        click.echo(f"critical path (~{longest / 60:.1f} min): {' -> '.join(chain)}")
        click.echo(
            f"ideal wall time on {workers} worker(s): ~{ideal_wall_time(graph, workers) / 60:.1f} min "
            f"(all cells ~{total / 60:.1f} min of work; no run is faster than the critical path; "
            "each worker as fast as 2 CPU cores, no scheduling overhead)"
        )
