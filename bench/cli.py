"""The ``bench`` command group; each subcommand lives in ``bench.commands``."""

from __future__ import annotations

import click

from bench import __version__
from bench.commands.attack_test import attack_test
from bench.commands.baseline import baseline
from bench.commands.check import check
from bench.commands.costs import costs
from bench.commands.describe import describe
from bench.commands.leaderboard import leaderboard
from bench.commands.ls import ls
from bench.commands.publish import export, report, site
from bench.commands.run import run
from bench.commands.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="bench")
def cli() -> None:
    """bench: adversarial-robustness benchmarks with gradient-masking verdicts.

    Write a YAML suite, then `bench run suites/mnist.yaml`: it trains (or loads) a baseline,
    a teacher and a distilled student, attacks them with ART, torchattacks and bench's own
    attacks, and writes tables, plots and verdicts to results/<suite>/.

    Exit codes: 0 success, 1 some cells failed or a check failed with --strict (run) or a
    metric regressed (check), 2 bad input (spec, data, files, incomparable baseline),
    130 interrupted (run; finished cells are kept).
    """


for command in (run, validate, ls, describe, report, baseline, check, leaderboard, attack_test, costs, export, site):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli()
