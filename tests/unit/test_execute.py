"""execute (bench.pipeline.cells.execute): a cell planned for other libraries, device, dtype or code is refused before any work."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.errors import CacheError
from bench.pipeline.cells import attack, cost, evaluate, train
from bench.pipeline.cells.build import attack_cell, cost_cell, defended_ref, eval_cell, train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.keys import BASE_PACKAGES, Runtime
from bench.pipeline.cells.values import DataRef, ModelRef
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.spec.schema import AttackSpec, ModelSpec

DATA = DataRef("digits", 0, None, 100, "t", "e", "x")
MODEL = ModelRef("a", "tiny-mlp", "recipe", "weights", "code")
HERE = Runtime.here("cpu")
VERSIONS = dict(HERE.packages)
OLDER_TORCH = Runtime((("torch", "1.0"), ("torchvision", VERSIONS["torchvision"])), "cpu")
ON_GPU = Runtime(HERE.subset(BASE_PACKAGES).packages, "cuda")
IN_DOUBLE = Runtime(HERE.subset(BASE_PACKAGES).packages, "cpu", "float64")


def cells(runtime: Runtime, code: str | None = None) -> list:
    """One cell of each kind, planned for ``runtime`` (and with ``code`` as its code digest, when given)."""
    evaluation = eval_cell(MODEL, DATA, True, runtime, code)
    pgd = AttackSpec(id="pgd", use="bench.pgd_margin", eps=[0.1])
    cost_planned = cost_cell(MODEL, (), DATA, runtime, "cpu", 1)
    return [
        train_cell(ModelSpec(id="a", kind="baseline", arch="tiny-mlp"), DATA, 0, runtime, None, code),
        evaluation,
        attack_cell(pgd, MODEL, DATA, 0, runtime, evaluation, None, code),
        cost_planned if code is None else replace(cost_planned, code=code),
    ]


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A workspace on empty folders, whose cell computations fail the test if execute ever reaches them."""

    def no_work(cell, ws):
        raise AssertionError(f"execute started on {cell.name}")

    for module, name in [(train, "train"), (evaluate, "evaluate"), (attack, "attack"), (cost, "measure")]:
        monkeypatch.setattr(module, name, no_work)
    return Workspace(WorkspacePaths(tmp_path / "run", tmp_path / "store", ()))


@pytest.mark.parametrize("runtime", [OLDER_TORCH, ON_GPU, IN_DOUBLE], ids=["older-torch", "cuda", "float64"])
def test_a_cell_planned_for_another_runtime_is_refused_naming_the_cell(ws, tmp_path, runtime):
    for cell in cells(runtime):
        with pytest.raises(CacheError) as info:
            execute(cell, ws)
        message = str(info.value)
        assert message.startswith(f"{cell.name}: planned for {cell.runtime.describe()}, but this process has torch ")
        assert "\n" not in message
    assert list(tmp_path.iterdir()) == [], "nothing was written: no run folder, no store"


def test_a_cell_planned_with_other_code_is_refused_naming_the_cell(ws, tmp_path):
    for cell in cells(HERE, code="digest of other code"):
        with pytest.raises(CacheError, match=rf"^{cell.name}: the code here differs from the code the run was planned with$"):
            execute(cell, ws)
    assert list(tmp_path.iterdir()) == []


def test_a_cell_planned_here_goes_on_to_its_computation(ws):
    # The same runtime and code pass the check (a cell names only the packages it uses), and the work starts.
    for cell in cells(HERE):
        with pytest.raises(AssertionError, match=f"execute started on {cell.name}"):
            execute(cell, ws)


def test_a_defended_model_planned_with_other_defence_steps_or_libraries_is_refused(ws, tmp_path):
    jpeg = ModelSpec(id="a", kind="baseline", arch="tiny-mlp", defence=[{"name": "jpeg"}])
    elsewhere = defended_ref(MODEL, jpeg, steps_code="digest of the driver's steps and Pillow")
    evaluation = eval_cell(elsewhere, DATA, True, HERE)
    pgd = AttackSpec(id="pgd", use="bench.pgd_margin", eps=[0.1])
    for cell in (evaluation, attack_cell(pgd, elsewhere, DATA, 0, HERE, evaluation, None), cost_cell(elsewhere, (), DATA, HERE, "cpu", 1)):
        with pytest.raises(CacheError, match=rf"^{cell.name}: the defence steps' code or their libraries \(ART, Pillow\) here differ"):
            execute(cell, ws)
    here = eval_cell(defended_ref(MODEL, jpeg), DATA, True, HERE)
    with pytest.raises(AssertionError, match="execute started on evaluate a"):
        execute(here, ws)
    assert list(tmp_path.iterdir()) == []
