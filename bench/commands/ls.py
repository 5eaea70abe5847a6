"""``bench ls``: list registered attacks, architectures or datasets."""

from __future__ import annotations

import click

from bench.commands import handle_errors


@click.command(name="ls")
@click.argument("what", type=click.Choice(["attacks", "architectures", "datasets"]))
@handle_errors
def ls(what: str) -> None:
    """List the registry keys usable in a spec, with one line on each."""
    if what == "attacks":
        from bench.attacks import ATTACKS

        for key in ATTACKS.keys():
            cls = ATTACKS.get(key)
            click.echo(f"{key:24s} {cls.kind:9s} {'/'.join(cls.norms):8s} {cls.default_tag:8s} {cls.description}")
    elif what == "architectures":
        from bench.pipeline.architectures import ARCHITECTURES

        for key in ARCHITECTURES.keys():
            click.echo(f"{key:16s} {ARCHITECTURES.get(key).description}")
    else:
        from bench.pipeline.datasets import DATASETS

        for key in DATASETS.keys():
            ds = DATASETS.get(key)
            click.echo(f"{key:16s} {'x'.join(map(str, ds.shape)):8s} {ds.n_classes} classes  {(ds.__doc__ or '').strip()}")
