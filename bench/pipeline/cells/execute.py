"""The one entry point that runs any cell (``execute``), after checking it was planned with this process's libraries and code.

Each kind of cell is computed by its own module: ``train``, ``evaluate``, ``attack``
and ``cost``. Each takes a cell and a workspace, writes the cell's outputs
atomically under the run folder (or the model store), and returns what the
manifest records about it.
"""

from __future__ import annotations

from typing import Any

from bench.errors import CacheError
from bench.pipeline.cells import attack, cost, evaluate, train
from bench.pipeline.cells.keys import attack_code, cost_code, defences_code, evaluate_code, train_code
from bench.pipeline.cells.values import AttackCell, Cell, CostCell, EvalCell, ModelRef, TrainCell
from bench.pipeline.cells.workspace import Workspace


def code_of(cell: Cell) -> str:
    """The code digest this process would compute ``cell`` with."""
    if isinstance(cell, TrainCell):
        return train_code(cell.model.arch, cell.model.train.adversarial is not None)
    if isinstance(cell, EvalCell):
        return evaluate_code()
    if isinstance(cell, CostCell):
        return cost_code()
    return attack_code(cell.attack.use)


def _models(cell: Cell) -> list[ModelRef]:
    if isinstance(cell, TrainCell):
        return [cell.teacher] if cell.teacher else []
    if isinstance(cell, CostCell):
        return [cell.model, *cell.teachers]
    return [cell.model] + ([cell.source] if isinstance(cell, AttackCell) and cell.source else [])


def execute(cell: Cell, ws: Workspace) -> dict[str, Any]:
    """Compute one cell from its value and the workspace's paths; write its outputs; return its manifest entry.

    The cell names the runtime and code it was planned with; a process with other
    library versions, another device type or other code refuses it rather than
    write results under a key that does not describe them. A ``TrainCell`` also
    returns its ``ModelRef`` under ``"ref"``, for the cells that depend on it.
    """
    here = ws.runtime.subset([name for name, _ in cell.runtime.packages])
    if cell.runtime != here:
        raise CacheError(f"{cell.name}: planned for {cell.runtime.describe()}, but this process has {here.describe()}")
    if cell.code != code_of(cell):
        raise CacheError(f"{cell.name}: the code here differs from the code the run was planned with")
    if any(ref.defence and ref.defence_code != defences_code() for ref in _models(cell)):
        raise CacheError(f"{cell.name}: the defence steps' code or their libraries (ART, Pillow) here differ from the run's plan")
    if isinstance(cell, TrainCell):
        return train.train(cell, ws)
    if isinstance(cell, EvalCell):
        return evaluate.evaluate(cell, ws)
    if isinstance(cell, CostCell):
        return cost.measure(cell, ws)
    return attack.attack(cell, ws)
