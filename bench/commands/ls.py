"""``bench ls``: list registered attacks, architectures or datasets, and where each came from."""

from __future__ import annotations

import click

from bench.commands import handle_errors


@click.command(name="ls")
@click.argument("what", type=click.Choice(["attacks", "architectures", "datasets"]))
@click.option("--params", "show_params", is_flag=True, help="With `attacks`: each attack's parameters, with type, default and meaning.")
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Import this plug-in module first, as a suite's `plugins:` list does (trusted code). Repeatable.",
)
@handle_errors
def ls(what: str, show_params: bool, plugins: tuple[str, ...]) -> None:
    """List the registry keys usable in a spec, with one line on each and its origin.

    The origin is `bench` for bench's own keys, `<package> <version> (entry point)` for
    an installed plug-in package, or `plugin module <name>` for a module named with --plugin.
    `bench ls attacks --params` adds every attack's parameters; `bench describe ATTACK` shows one.
    """
    from bench.registry import import_plugins

    import_plugins(plugins)
    if what == "attacks":
        from bench.catalogue.attacks import ATTACKS
        from bench.commands.describe import param_lines

        for key in ATTACKS.keys():
            cls = ATTACKS.get(key)
            click.echo(f"{key:24s} {cls.kind:9s} {'/'.join(cls.norms):8s} {cls.default_tag:8s} {cls.description}  [{ATTACKS.origin(key)}]")
            if show_params:
                for line in param_lines(cls.Params, indent=" " * 4):
                    click.echo(line)
    elif what == "architectures":
        from bench.catalogue.architectures import ARCHITECTURES

        for key in ARCHITECTURES.keys():
            click.echo(f"{key:16s} {ARCHITECTURES.get(key).description}  [{ARCHITECTURES.origin(key)}]")
    else:
        from bench.catalogue.datasets import DATASETS

        for key in DATASETS.keys():
            ds = DATASETS.get(key)
            shape = "file" if ds.needs_path else "x".join(map(str, ds.shape))
            classes = "? classes" if ds.needs_path else f"{ds.n_classes} classes"
            sizes = "from file" if ds.needs_path else f"{ds.n_train}/{ds.n_test}"
            doc = (ds.__doc__ or "").strip().splitlines()[0] if ds.__doc__ else ""
            click.echo(f"{key:16s} {shape:8s} {classes:10s} {sizes:12s} {doc}  [{DATASETS.origin(key)}]")
