"""What a Dask worker runs (bench.pipeline.executors.dask_tasks), called in this process: cells built from outcomes, clear refusals."""

from __future__ import annotations

import pytest

from bench.errors import CacheError, ExecutorError
from bench.pipeline.cells.build import defended_ref, eval_cell
from bench.pipeline.cells.keys import Runtime, defences_code
from bench.pipeline.cells.values import DataRef, ModelRef
from bench.pipeline.cells.workspace import WorkspacePaths
from bench.pipeline.executors.dask_tasks import Outcome, TaskEnv, evaluate_task
from bench.spec.schema import ModelSpec

DATA = DataRef("digits", 0, None, 200, "t", "e", "x")
TRAINED = Outcome("train a", {"origin": "trained"}, ModelRef("a", "small-cnn", "key", "weights", "code"))
RUNTIME = Runtime.here("cpu")
A, B = (ModelSpec(id=i, kind="baseline", arch="small-cnn") for i in "ab")
CODE = (("evaluate", eval_cell(TRAINED.ref, DATA, True, RUNTIME).code),)


def env_for(run, store, runtime=RUNTIME, code=CODE) -> TaskEnv:
    return TaskEnv(WorkspacePaths(run, store, ()), runtime, code)


def test_a_worker_that_cannot_see_the_run_folder_says_so(tmp_path):
    env = env_for(tmp_path / "elsewhere" / "smoke", tmp_path / "store")
    with pytest.raises(ExecutorError, match=r"smoke: the run folder is not visible on worker host .*shared file system"):
        evaluate_task(TRAINED, A, DATA, env)


def test_a_finished_cell_is_skipped_and_keeps_its_outputs(tmp_path):
    run = tmp_path / "smoke"
    env = env_for(run, tmp_path / "store")
    (run / "records").mkdir(parents=True)
    cell = eval_cell(ModelRef("b", "small-cnn", "key", "weights", "code"), DATA, True, RUNTIME)
    for rel in cell.outputs:
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text("done before\n")
    # The same training serves model id b: the evaluation is named, keyed and written as b's.
    out = evaluate_task(TRAINED, B, DATA, env)
    assert out.name == "evaluate b" and out.ref.id == "b" and out.entry["origin"] == "done"
    assert out.keep == {p.rsplit("/", 1)[1] for p in cell.outputs}
    assert out.evaluation == cell, "attacks on b judge against this cell's clean shard"
    assert {"seconds", "worker", "started", "finished"} <= set(out.entry)


def test_a_defended_model_is_evaluated_behind_its_defence_with_its_own_keys(tmp_path):
    run = tmp_path / "smoke"
    (run / "records").mkdir(parents=True)
    jpeg = ModelSpec(id="b", kind="baseline", arch="small-cnn", defence=[{"name": "jpeg"}], eval_draws=3)
    bare = eval_cell(ModelRef("b", "small-cnn", "key", "weights", "code"), DATA, True, RUNTIME)
    defended = eval_cell(defended_ref(TRAINED.ref, jpeg), DATA, True, RUNTIME)
    for rel in defended.outputs:
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text("done before\n")
    out = evaluate_task(TRAINED, jpeg, DATA, env_for(run, tmp_path / "store", code=CODE + (("defences", defences_code()),)))
    assert out.evaluation == defended and out.ref.defence == jpeg.defence_json() and out.ref.eval_draws == 3
    assert out.ref.weights == TRAINED.ref.weights and out.ref.key == TRAINED.ref.key, "the same network, never retrained"
    assert set(defended.outputs).isdisjoint(bare.outputs), "no result of the defended model shares a file with the bare network's"


def test_a_worker_with_other_code_or_libraries_than_the_driver_refuses_the_cell(tmp_path):
    run = tmp_path / "smoke"
    (run / "records").mkdir(parents=True)
    with pytest.raises(CacheError, match="the code here differs from the code the run was planned with"):
        evaluate_task(TRAINED, A, DATA, env_for(run, tmp_path / "store", code=(("evaluate", "other"),)))
    older = Runtime((("torch", "1.0"), ("torchvision", "0.1")), "cpu")
    with pytest.raises(CacheError, match="planned for torch 1.0, torchvision 0.1, cpu, float32, but this process has torch"):
        evaluate_task(TRAINED, A, DATA, env_for(run, tmp_path / "store", runtime=older))
