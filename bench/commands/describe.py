"""``bench describe``: one attack's parameters (type, default, meaning), and the helpers `bench ls` shares."""

from __future__ import annotations

import types
import typing
from typing import Any

import click

from bench.commands import handle_errors


def type_name(annotation: Any) -> str:
    """``int``, ``float | None``, ``'a' | 'b'``: a field's type as a user writes it in YAML."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else type_name(a) for a in args)
    return str(annotation).replace("typing.", "")


def param_rows(params_cls: Any) -> list[tuple[str, str, str, str]]:
    """(name, type, default, meaning) for each field of an attack's ``Params``."""
    rows = []
    for name, field in params_cls.model_fields.items():
        default = "required" if field.is_required() else repr(field.get_default(call_default_factory=True))
        rows.append((name, type_name(field.annotation), default, field.description or ""))
    return rows


def param_lines(params_cls: Any, indent: str = "  ") -> list[str]:
    """The parameter table of one attack, aligned; one line saying so when it takes none."""
    rows = param_rows(params_cls)
    if not rows:
        return [f"{indent}(no parameters)"]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return [f"{indent}{n:{widths[0]}s}  {t:{widths[1]}s}  default {d:{widths[2]}s}  {m}".rstrip() for n, t, d, m in rows]


@click.command()
@click.argument("attack")
@handle_errors
def describe(attack: str) -> None:
    """Print ATTACK's kind, norms, tag and every parameter with its type, default and meaning.

    ATTACK is a registry key from `bench ls attacks`, e.g. `bench describe bench.cw_l2`.
    Parameters go under the attack's `params:` in a suite, or `--set attacks.<id>.params.<name>=...`.
    """
    from bench.catalogue.attacks import ATTACKS
    from bench.errors import SpecError
    from bench.registry import UnknownKeyError

    try:
        cls = ATTACKS.get(attack)
    except UnknownKeyError as exc:
        raise SpecError(str(exc)) from None
    click.echo(f"{attack}: {cls.description}")
    click.echo(f"kind {cls.kind}, norms {', '.join(cls.norms)}, default tag {cls.default_tag}, default batch size {cls.default_batch_size}")
    click.echo("params:")
    for line in param_lines(cls.Params):
        click.echo(line)
    if cls.Params.synonyms:
        names = ", ".join(f"{k} is {v}" for k, v in cls.Params.synonyms.items())
        click.echo(f"names from other libraries: {names}")
