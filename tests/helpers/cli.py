"""bench's command line, called in this process."""

from __future__ import annotations

from click.testing import CliRunner, Result

from bench.cli import cli


def invoke(*args: object, env: dict[str, str] | None = None) -> Result:
    """``bench ARGS...``, each argument turned into a string (paths welcome)."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)
