"""The plan of a suite: which cells it has, in which order, and roughly what they cost.

Pure functions of a validated ``SuiteSpec``: nothing is trained, loaded or
imported beyond the torch-free registries, so ``bench validate`` can print the
plan in a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.attacks import ATTACKS
from bench.pipeline.architectures import ARCHITECTURES
from bench.pipeline.datasets import open_dataset
from bench.spec.schema import SuiteSpec
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
    n_train = spec.dataset.train_size or open_dataset(spec.dataset.name, spec.dataset.path).n_train
    train = sum(
        m.train.epochs * n_train * (m.train.adversarial.cost() if m.train.adversarial else 1.0) / _speed(m.arch)
        for m in spec.models
        if not m.checkpoint
    )
    attack = 0.0
    for cell in cells:
        a = spec.attacks[cell.attack]
        cls = ATTACKS.get(a.use)
        n = min(a.n_samples or spec.dataset.eval_size, spec.dataset.eval_size)
        passes = n * max(len(a.eps), 1) * cls.Params.model_validate(a.params).cost()
        attack += passes / _speed(spec.model(cell.source or cell.model).arch)
    return train, attack
