"""``bench validate``: check a spec without running it."""

from __future__ import annotations

from pathlib import Path

import click

from bench.commands import handle_errors


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec value before validating.")
@handle_errors
def validate(spec: Path, overrides: tuple[str, ...]) -> None:
    """Check SPEC (fields, ids, teachers, attack keys and params, eps) and print the plan.

    Nothing is trained, downloaded or written. Exit code 2 with a one-line message
    naming the YAML path when the spec is invalid.
    """
    from bench.spec.load import load_suite
    from bench.spec.plan import attack_plan, estimate_cost
    from bench.spec.schema import view_name

    suite = load_suite(spec, overrides)
    click.echo(f"{spec}: ok (suite '{suite.name}', spec hash {suite.spec_hash()[:12]})")
    if suite.plugins:
        click.echo(f"plugins: {', '.join(suite.plugins)}")
    data_file = f" from {suite.dataset.path}" if suite.dataset.path else ""
    click.echo(
        f"dataset: {suite.dataset.name}{data_file}, eval {suite.dataset.eval_size} samples, train {suite.dataset.train_size or 'all'}"
    )
    for m in suite.models:
        extra = f", teacher {m.teacher}" if m.teacher else ""
        attacked = "" if m.evaluate else ", not attacked"
        if m.kind == "external":
            click.echo(f"model {m.id}: external program {Path(m.checkpoint or '').name}, not trained{attacked}")
            continue
        augment = ""
        if m.train.augment is not None:
            augment = f", augment crop_padding={m.train.augment.crop_padding} flip={m.train.augment.flip}"
        click.echo(f"model {m.id}: {m.kind} {m.arch}, T={m.train.temperature:g}, {m.train.epochs} epochs{augment}{extra}{attacked}")
    for a in suite.attacks:
        eps = ", ".join(f"{e:g}" for e in a.eps) or "unbounded"
        src = f", crafted on {a.source}" if a.source else ""
        click.echo(f"attack {a.id}: {a.use} ({a.tag}, view {view_name(a.view)}, {a.norm}, eps {eps}{src})")
    cells = attack_plan(suite)
    train, attack = estimate_cost(suite, cells)
    click.echo(f"cells: {len(suite.models)} training, {len(cells)} attack")
    click.echo(f"rough cost on 2 CPU cores: training ~{train / 60:.1f} min, attacks ~{attack / 60:.1f} min (cold)")
