"""How the cells of a run are built: the one place that fills in each cell's runtime and code digest.

Every executor builds its cells here, the local runner as Dask tasks, so a cell
means the same thing wherever it is planned: it names the packages it depends on
(torch and torchvision; an attack also the backend it imports) and the digest of
the code that computes it, and ``bench.pipeline.cells.execute.execute`` refuses it in a
process whose runtime or code differ.

A Dask worker builds its cells itself (a cell's key holds the weights digest of its
models, known only once they are trained), with the runtime and the code digest the
driver planned the run with (``code``), so that ``execute`` checks the worker against
the driver rather than against itself.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.pipeline.cells.keys import (
    BASE_PACKAGES,
    Runtime,
    attack_code,
    attack_packages,
    cost_code,
    defences_code,
    defended_code,
    evaluate_code,
    train_code,
)
from bench.pipeline.cells.values import AttackCell, CostCell, DataRef, EvalCell, ModelRef, TrainCell
from bench.spec.schema import AttackSpec, ModelSpec


def defended_ref(trained: ModelRef, model: ModelSpec, steps_code: str | None = None) -> ModelRef:
    """The model later cells evaluate, attack and price: ``trained`` (the network a train cell obtained) behind
    ``model``'s defence and judged over its ``eval_draws``; ``trained`` itself when it has neither.

    The network's store key and weights stay the undefended model's: a defence never retrains it.
    Its code digest covers the defence, so no result on the defended model shares a key with one
    on the bare network. A teacher's soft labels always come from the bare network (``trained``).
    ``steps_code`` is the planning process's ``defences_code()`` (a Dask driver's), this process's by default.
    """
    ref = replace(trained, id=model.id)
    if not model.defence and model.eval_draws == 1:
        return ref
    defence, steps = model.defence_json(), steps_code or defences_code()
    code = defended_code(trained.code, defence, model.eval_draws, steps)
    return replace(ref, code=code, defence=defence, eval_draws=model.eval_draws, defence_code=steps if defence else "")


def train_cell(
    model: ModelSpec, data: DataRef, seed: int, runtime: Runtime, teacher: ModelRef | None, code: str | None = None
) -> TrainCell:
    """The cell that obtains ``model`` (its teacher, for a student, already obtained)."""
    return TrainCell(
        model, data, seed, runtime.subset(BASE_PACKAGES), code or train_code(model.arch, model.train.adversarial is not None), teacher
    )


def eval_cell(model: ModelRef, data: DataRef, diagnose: bool, runtime: Runtime, code: str | None = None) -> EvalCell:
    """The cell that writes a trained model's clean records (and its diagnostics when it is attacked)."""
    return EvalCell(model, data, diagnose, runtime.subset(BASE_PACKAGES), code or evaluate_code())


def attack_cell(
    attack: AttackSpec,
    model: ModelRef,
    data: DataRef,
    seed: int,
    runtime: Runtime,
    evaluation: EvalCell,
    source: ModelRef | None,
    code: str | None = None,
) -> AttackCell:
    """The cell that runs one attack on ``model``, judged against the clean records ``evaluation`` wrote."""
    clean = Path(evaluation.shard).name
    packages = runtime.subset(attack_packages(attack.use))
    return AttackCell(attack, model, data, seed, packages, code or attack_code(attack.use), clean, source)


def cost_cell(model: ModelRef, teachers: tuple[ModelRef, ...], data: DataRef, runtime: Runtime, device: str, threads: int) -> CostCell:
    """The cell that measures what ``model`` costs on ``device`` with ``threads`` threads (its teachers' training included)."""
    return CostCell(model, teachers, data, runtime.subset(BASE_PACKAGES), cost_code(), device, threads)
