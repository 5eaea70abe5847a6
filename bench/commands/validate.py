"""``bench validate``: check a spec without running it, and print its plan and what it will not show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.commands import FILE, FOLDER, handle_errors, slurm_options

if TYPE_CHECKING:
    from bench.spec.schema import SuiteSpec


@click.command()
@click.argument("spec", type=FILE)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec value before validating.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Also print the critical path and the ideal wall time on N workers, from the same cost model.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask", "slurm"]),
    default=None,
    help="slurm: also check the Slurm options against the cluster, and print the job script and the ideal wall time on --jobs.",
)
@click.option(
    "--threads-per-worker", type=click.IntRange(min=1), default=None, help="Slurm: cells each worker job runs at once (default 1)."
)
@slurm_options
@click.option(
    "--out",
    type=FOLDER,
    default=Path("results"),
    show_default=True,
    help="With --executor slurm: the --out of the run, whose <suite name>/slurm/ receives the jobs' output.",
)
@handle_errors
def validate(
    spec: Path,
    overrides: tuple[str, ...],
    workers: int | None,
    executor: str | None,
    threads_per_worker: int | None,
    out: Path,
    **slurm: Any,
) -> None:
    """Check SPEC and print the plan: models, and each attack's effective params, targets, samples and eps.

    Checks fields, ids, teachers, attack keys and params, eps against the [0, 1]
    input scale, sizes against the dataset, and that checkpoint files exist and fit
    their architecture. Nothing is trained, downloaded or written. Exit code 2 with
    one line per problem, each naming its YAML path, when the spec is invalid.
    Warnings (exit code 0) say what the run would leave empty, e.g. a norm whose
    naive attacks have no adaptive attack to be compared with. With --workers N, size
    a cluster before running: the longest chain of dependent cells and the wall time
    N workers would need with no scheduling overhead. With --executor slurm and the
    options of `bench run`, check them (Slurm's commands, the partition, a walltime
    that fits the longest cell) and print the job script each worker job is submitted
    with, and the ideal wall time on --jobs jobs.
    """
    from bench.errors import SpecError
    from bench.spec.load import load_suite

    suite = load_suite(spec, overrides)
    if any(m.checkpoint and m.kind != "external" for m in suite.models):
        from bench.pipeline.models.networks import checkpoint_problems  # imports torch: only for suites that load weights

        problems = checkpoint_problems(suite)
        if problems:
            raise SpecError("\n".join(problems))
    # The executor's checks first: a bad option is an error, not a line after an "ok".
    asked = executor or suite.executor or threads_per_worker or any(v not in (None, ()) for v in slurm.values())
    cluster = executor_lines(suite, out, executor, threads_per_worker, slurm) if asked else []
    click.echo(f"{spec}: ok (suite '{suite.name}', spec hash {suite.spec_hash()[:12]})")
    for line in plan_lines(suite):
        click.echo(line)
    if workers is not None:
        for line in scaling_lines(suite, workers):
            click.echo(line)
    for line in cluster:
        click.echo(line)
    for line in plan_warnings(suite):
        click.echo(f"warning: {line}", err=True)


def executor_lines(suite: SuiteSpec, out: Path, kind: str | None, threads_per_worker: int | None, slurm: dict[str, Any]) -> list[str]:
    """For a Slurm run (flags over the suite's ``executor:``): checks, then the job script and the ideal wall time on its jobs."""
    import shutil

    from bench.pipeline.executors import resolve
    from bench.pipeline.executors.slurm import COMMANDS, check_cluster, check_walltime, job_script

    opts = resolve(suite.executor, kind, threads_per_worker=threads_per_worker, **slurm)
    if opts.kind != "slurm":
        return []
    lines = []
    if all(shutil.which(cmd) for cmd in COMMANDS):
        check_cluster(opts, suite)
    else:
        check_walltime(opts, suite)
        lines.append("warning: Slurm's commands are not on the PATH here; `bench run --executor slurm` needs them")
    jobs, threads = opts.jobs or 1, opts.threads_per_worker or 1
    log_dir = out.expanduser().resolve() / suite.name / "slurm"
    lines.append(f"job script ({jobs} job(s), each one Dask worker running {threads} cell(s) at once):")
    lines += ["  " + line if line else "" for line in job_script(opts, log_dir).rstrip().splitlines()]
    return lines + scaling_lines(suite, jobs * threads, f"{jobs} Slurm job(s) of {threads} worker thread(s)")


def scaling_lines(suite: SuiteSpec, workers: int, what: str | None = None) -> list[str]:
    """The run's critical path and its ideal wall time on ``workers`` workers, from the plan's cost model."""
    from bench.spec.plan import cell_graph, critical_path, ideal_wall_time

    graph = cell_graph(suite)
    chain, longest = critical_path(graph)
    total = sum(c.cost for c in graph)
    return [
        f"critical path ({fmt_seconds(longest)}): {' -> '.join(chain)}",
        f"ideal wall time on {what or f'{workers} worker(s)'}: {fmt_seconds(ideal_wall_time(graph, workers))} "
        f"(all cells {fmt_seconds(total)} of work; no run is faster than the critical path; "
        "each worker as fast as 2 CPU cores, no scheduling overhead)",
    ]


def fmt_eps(eps: float) -> str:
    """``0.1``; ``0.03137 (8/255)`` when the budget is a whole number of grey levels."""
    levels = eps * 255
    if 0 < eps < 1 and abs(levels - round(levels)) < 1e-6 and abs(eps * 10 - round(eps * 10)) > 1e-9:
        return f"{eps:.4g} ({round(levels)}/255)"
    return f"{eps:g}"


def fmt_seconds(seconds: float) -> str:
    """A rough duration a person can read: ``< 1 s``, ``~40 s``, ``~3.4 min``, ``~2.1 h``."""
    if seconds < 1:
        return "< 1 s"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"~{seconds / 60:.1f} min"
    return f"~{seconds / 3600:.1f} h"


def plan_lines(suite: SuiteSpec) -> list[str]:
    """The plan as `bench validate` prints it: data, models, attacks with effective settings, cells and cost."""
    from bench.catalogue.attacks import ATTACKS
    from bench.catalogue.datasets import DATASETS
    from bench.spec.plan import attack_plan, estimate_cost
    from bench.spec.schema import view_name

    ds = DATASETS.get(suite.dataset.name)
    d = suite.dataset
    lines = [f"plugins: {', '.join(suite.plugins)}"] if suite.plugins else []
    if d.path:
        lines.append(f"dataset: {d.name} from {d.path}, eval {d.eval_size} samples, train {d.train_size or 'all'}")
    else:
        lines.append(f"dataset: {d.name}, eval {d.eval_size} of {ds.n_test} test samples, train {d.train_size or 'all'} of {ds.n_train}")
    for m in suite.models:
        extra = f", teacher {m.teacher}" if m.teacher else ""
        extra += f", seed {m.seed}" if m.seed is not None else ""
        source = f"checkpoint {m.checkpoint}" if m.checkpoint else f"T={m.train.temperature:g}, {m.train.epochs} epochs"
        attacked = "" if m.evaluate else ", not attacked"
        if m.kind == "external":
            defence = f"; defence {m.describe_defence()}" if m.defence or m.eval_draws > 1 else ""
            lines.append(f"model {m.id}: external program {Path(m.checkpoint or '').name}, not trained{attacked}{defence}")
            continue
        if m.train.augment is not None and not m.checkpoint:
            source += f", augment crop_padding={m.train.augment.crop_padding} flip={m.train.augment.flip}"
        if m.train.adversarial is not None and not m.checkpoint:
            adv = m.train.adversarial
            source += f", adversarial training {adv.describe()} (step {adv.alpha:g}, ~{adv.cost():g}x the cost of plain training)"
        defence = f"; defence {m.describe_defence()}" if m.defence or m.eval_draws > 1 else ""
        lines.append(f"model {m.id}: {m.kind} {m.arch}, {source}{extra}{attacked}{defence}")
    cells = attack_plan(suite)
    for i, a in enumerate(suite.attacks):
        cls = ATTACKS.get(a.use)
        eps = ", ".join(fmt_eps(e) for e in a.eps) or "none"
        eps += " + unbounded" if cls.kind == "min_norm" else ""
        targets = ", ".join(c.model for c in cells if c.attack == i) or "none"
        src = f", crafted on {a.source}" if a.source else ""
        n = min(a.n_samples or d.eval_size, d.eval_size)
        lines.append(f"attack {a.id}: {a.use} ({a.tag}, {cls.kind}, view {view_name(a.view)}, {a.norm}{src})")
        lines.append(f"  eps {eps}; on {targets}; {n} samples, batches of {a.batch_size}")
        params = ", ".join(f"{k}={v}" for k, v in a.params.items()) or "none"
        lines.append(f"  params: {params}")
    train, attack = estimate_cost(suite, cells)
    lines.append(f"cells: {len(suite.models)} training, {len(cells)} attack")
    lines.append(f"rough cost on 2 CPU cores: training {fmt_seconds(train)}, attacks {fmt_seconds(attack)} (cold)")
    return lines


def plan_warnings(suite: SuiteSpec) -> list[str]:
    """What a valid suite will not show: an empty naive-vs-adaptive comparison, sample counts capped by eval_size, a
    randomized defence judged by one pass."""
    from bench.spec.plan import attack_plan
    from bench.spec.schema import RANDOMIZED_STEPS

    out = []
    d = suite.dataset
    for i, a in enumerate(suite.attacks):
        if a.n_samples is not None and a.n_samples > d.eval_size:
            out.append(f"attacks[{i}].n_samples: {a.n_samples} is more than dataset.eval_size {d.eval_size}; {a.id} attacks {d.eval_size}")
    targets: dict[str, list[int]] = {}
    for cell in attack_plan(suite):
        if suite.attacks[cell.attack].source is None:
            targets.setdefault(cell.model, []).append(cell.attack)
    empty: dict[str, list[str]] = {}
    for model, idx in targets.items():
        why = _no_comparison([suite.attacks[i] for i in idx])
        if why:
            empty.setdefault(why, []).append(model)
    for why, models in empty.items():
        out.append(
            f"on {', '.join(models)}, no norm has an iterative naive attack and an adaptive attack at a shared eps, so "
            f"'Naive vs adaptive' and the naive-adaptive-gap check will be empty; {why}"
        )
    for i, m in enumerate(suite.models):
        drawn = [s.name for s in m.defence if s.name in RANDOMIZED_STEPS]
        if drawn and m.eval_draws == 1:
            out.append(
                f"models[{i}].eval_draws: {m.id}'s {', '.join(drawn)} draws afresh on every pass, and one pass judges each "
                "prediction; the randomized-model check will fail: set eval_draws (e.g. 11)"
            )
    return out


def _no_comparison(attacks: list[Any]) -> str | None:
    """None when these attacks (on one model) give a naive-vs-adaptive row, else what to add (the rule of results.metrics)."""
    from bench.catalogue.attacks import ATTACKS
    from bench.results.families import family_of

    naive = [a for a in attacks if a.tag == "naive"]
    if not naive:
        return None
    iterative: dict[str, set[float]] = {}
    for a in naive:
        if ATTACKS.get(a.use).kind == "fixed_eps" and family_of(a.use).role == "iterative":
            iterative.setdefault(a.norm, set()).update(a.eps)
    for norm, eps in iterative.items():
        adaptive = [a for a in attacks if a.tag == "adaptive" and a.norm == norm]
        if any(ATTACKS.get(a.use).kind == "min_norm" or eps & set(a.eps) for a in adaptive):
            return None
    # Suggest for the norm of the first naive attack an adaptive attack can work in (bench ships none for l0).
    norm = next((a.norm for a in naive if a.norm in ("linf", "l2")), None)
    if norm is None:
        return "bench has no adaptive attack for their norm"
    budgets = sorted(iterative.get(norm) or {e for a in naive if a.norm == norm for e in a.eps})
    eps = f"[{budgets[-1]:g}]" if budgets else "[...]"
    if norm not in iterative:
        pgd = "torchattacks.pgd" if norm == "linf" else "torchattacks.pgdl2"
        return f"add an iterative naive {norm} attack and an adaptive one at the same eps, e.g. {{id: pgd, use: {pgd}, eps: {eps}}}"
    return f"add an adaptive {norm} attack at one of the naive attacks' eps, e.g. {{id: pgd-margin, use: bench.pgd_margin, eps: {eps}}}"
