"""``bench ls``: list registered attacks, architectures or datasets."""

from __future__ import annotations

import click

from bench.commands import handle_errors


@click.command(name="ls")
@click.argument("what", type=click.Choice(["attacks", "architectures", "datasets"]))
@click.option("--params", "show_params", is_flag=True, help="With `attacks`: each attack's parameters, with type, default and meaning.")
@handle_errors
def ls(what: str, show_params: bool) -> None:
    """List the registry keys usable in a spec, with one line on each.

    `bench ls attacks --params` adds every attack's parameters; `bench describe ATTACK` shows one.
    """
    if what == "attacks":
        from bench.attacks import ATTACKS
        from bench.commands.describe import param_lines

        for key in ATTACKS.keys():
            cls = ATTACKS.get(key)
            click.echo(f"{key:24s} {cls.kind:9s} {'/'.join(cls.norms):8s} {cls.default_tag:8s} {cls.description}")
            if show_params:
                for line in param_lines(cls.Params, indent=" " * 4):
                    click.echo(line)
    elif what == "architectures":
        from bench.pipeline.architectures import ARCHITECTURES

        for key in ARCHITECTURES.keys():
            click.echo(f"{key:16s} {ARCHITECTURES.get(key).description}")
    else:
        from bench.pipeline.datasets import DATASETS

        for key in DATASETS.keys():
            ds = DATASETS.get(key)
            sizes = f"{ds.n_train}/{ds.n_test}"
            click.echo(f"{key:16s} {'x'.join(map(str, ds.shape)):8s} {ds.n_classes} classes  {sizes:12s} {(ds.__doc__ or '').strip()}")
