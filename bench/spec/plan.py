"""The plan of a suite: which cells it has, in which order, and roughly what they cost.

Pure functions of a validated ``SuiteSpec``: nothing is trained, loaded or
imported beyond the torch-free registries, so ``bench validate`` can print the
plan in a fraction of a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.attacks import ATTACKS
from bench.catalogue.datasets import Dataset, open_dataset
from bench.spec.schema import SuiteSpec, ViewSpec
from bench.spec.sweep import source_for


@dataclass(frozen=True)
class PlannedAttack:
    """One attack on one target model; ``source`` is the model it is crafted on for a transfer attack."""

    model: str
    attack: int  # index into ``SuiteSpec.attacks``
    source: str | None = None


def model_seed(spec: SuiteSpec, model_id: str) -> int:
    """A model's own seed (from a seed sweep), else the suite's."""
    seed = spec.model(model_id).seed
    return spec.seed if seed is None else seed


def topo_models(spec: SuiteSpec) -> list[str]:
    """Model ids with every teacher before its students."""
    order: list[str] = []

    def visit(mid: str) -> None:
        if mid in order:
            return
        m = spec.model(mid)
        if m.teacher:
            visit(m.teacher)
        order.append(mid)

    for m in spec.models:
        visit(m.id)
    return order


def attack_plan(spec: SuiteSpec) -> list[PlannedAttack]:
    """Every attack on each of its target models, in spec order."""
    evaluated = [m.id for m in spec.models if m.evaluate]
    cells = []
    for i, a in enumerate(spec.attacks):
        for mid in a.models or evaluated:
            source = source_for(spec, a.source, mid) if a.source else None
            if mid != source:
                cells.append(PlannedAttack(mid, i, source))
    return cells


# An external model's network is unknown until it is loaded; estimate it like a small CNN.
EXTERNAL_PASSES_PER_SECOND = 3000.0


def _speed(arch: str | None) -> float:
    return EXTERNAL_PASSES_PER_SECOND if arch is None else ARCHITECTURES.get(arch).passes_per_second


def estimate_cost(spec: SuiteSpec, cells: list[PlannedAttack]) -> tuple[float, float]:
    """Rough cold-run seconds (training, attacks) from pass counts and measured per-architecture speeds."""
    # Models that differ only in their defence share one network, trained once.
    recipes = {_recipe(spec, m.id): m.id for m in spec.models}
    train = sum(train_cost(spec, mid) for mid in recipes.values())
    return train, sum(attack_cost(spec, cell) for cell in cells)


def _recipe(spec: SuiteSpec, model_id: str) -> str:
    m = spec.model(model_id)
    return json.dumps([m.kind, m.arch, m.train.canonical(), m.teacher, m.seed, m.checkpoint], sort_keys=True)


def _dataset(spec: SuiteSpec) -> Dataset:
    return open_dataset(spec.dataset.name, spec.dataset.path)


def train_cost(spec: SuiteSpec, model_id: str) -> float:
    """Rough seconds to train one model on 2 CPU cores (0 for a checkpoint)."""
    m = spec.model(model_id)
    if m.checkpoint:
        return 0.0
    n_train = spec.dataset.train_size or _dataset(spec).n_train
    factor = m.train.adversarial.cost() if m.train.adversarial else 1.0  # training passes per clean pass
    return m.train.epochs * n_train * factor / _speed(m.arch)


def evaluate_cost(spec: SuiteSpec, model_id: str) -> float:
    """Rough seconds for a model's clean predictions (a forward pass is about a third of a training pass) and diagnostics."""
    m = spec.model(model_id)
    n_test = _dataset(spec).n_train / 6  # the shipped datasets' test splits are 1/6 to 1/4 of train
    passes = n_test / 3 + (spec.dataset.eval_size if m.evaluate else 0)
    return passes / _speed(m.arch)


def attack_cost(spec: SuiteSpec, cell: PlannedAttack) -> float:
    """Rough seconds for one attack cell on 2 CPU cores."""
    a = spec.attacks[cell.attack]
    cls = ATTACKS.get(a.use)
    n = min(a.n_samples or spec.dataset.eval_size, spec.dataset.eval_size)
    passes = n * max(len(a.eps), 1) * cls.Params.model_validate(a.params).cost()
    if isinstance(a.view, ViewSpec) and a.view.eot:
        passes *= a.view.eot  # every gradient is the mean of eot draws
    return passes / _speed(spec.model(cell.source or cell.model).arch)


@dataclass(frozen=True)
class PlannedCell:
    """One node of the run's task graph: a cell's name (as the manifest names it), what it waits for, its rough cost."""

    name: str
    deps: tuple[str, ...]
    cost: float


def cell_graph(spec: SuiteSpec) -> list[PlannedCell]:
    """Every cell with its dependencies, in an order where dependencies come first.

    A student trains after its teacher. A model is evaluated after it is trained and is
    ready once evaluated (an attack reads its clean records). An attack waits for its
    target and, for a transfer attack, its source.
    """
    cells = []
    for mid in topo_models(spec):
        teacher = spec.model(mid).teacher
        cells.append(PlannedCell(f"train {mid}", (f"train {teacher}",) if teacher else (), train_cost(spec, mid)))
        cells.append(PlannedCell(f"evaluate {mid}", (f"train {mid}",), evaluate_cost(spec, mid)))
    for planned in attack_plan(spec):
        deps = tuple(f"evaluate {m}" for m in (planned.model, planned.source) if m)
        cells.append(PlannedCell(f"{spec.attacks[planned.attack].id} on {planned.model}", deps, attack_cost(spec, planned)))
    return cells


def critical_path(cells: list[PlannedCell]) -> tuple[list[str], float]:
    """The chain of dependent cells with the largest total cost, and that cost: no number of workers runs faster."""
    best: dict[str, tuple[float, list[str]]] = {}
    for c in cells:  # dependencies come first
        before = max((best[d] for d in c.deps if d in best), default=(0.0, []), key=lambda b: b[0])
        best[c.name] = (before[0] + c.cost, [*before[1], c.name])
    cost, chain = max(best.values(), key=lambda b: b[0], default=(0.0, []))
    return chain, cost


def tails(cells: list[PlannedCell]) -> dict[str, float]:
    """Per cell, the cost of the longest chain from its start to the end of the run: run the longest first."""
    dependents: dict[str, list[str]] = {c.name: [] for c in cells}
    for c in cells:
        for d in c.deps:
            dependents.setdefault(d, []).append(c.name)
    tail: dict[str, float] = {}
    for c in reversed(cells):  # dependents come later, so their tails are known here
        tail[c.name] = c.cost + max((tail[n] for n in dependents[c.name]), default=0.0)
    return tail


def ideal_wall_time(cells: list[PlannedCell], workers: int) -> float:
    """Seconds to run every cell on ``workers`` identical workers with no scheduling overhead.

    Greedy list scheduling: whenever a worker is free it takes the ready cell with the
    longest path to the end (critical path first). The result is at least
    ``max(critical path, total cost / workers)`` and close to it.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    by_name = {c.name: c for c in cells}
    deps = {c.name: [d for d in c.deps if d in by_name] for c in cells}
    tail = tails(cells)
    done_at: dict[str, float] = {}
    free = [0.0] * workers
    pending = [c.name for c in cells]
    while pending:
        w = min(range(workers), key=lambda i: free[i])
        scheduled = [n for n in pending if all(d in done_at for d in deps[n])]
        ready_at = {n: max((done_at[d] for d in deps[n]), default=0.0) for n in scheduled}
        ready = [n for n in scheduled if ready_at[n] <= free[w]]
        if not ready:  # the free worker idles until the next cell's inputs are done
            free[w] = min(ready_at.values())
            continue
        name = max(ready, key=lambda n: tail[n])
        done_at[name] = free[w] = free[w] + by_name[name].cost
        pending.remove(name)
    return max(done_at.values(), default=0.0)
