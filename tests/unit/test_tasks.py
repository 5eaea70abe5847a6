"""What a Dask worker runs, called in this process: cells built from outcomes, and a clear error off the shared file system."""

from __future__ import annotations

import pytest

from bench.errors import ExecutorError
from bench.pipeline.cells import DataRef, EvalCell, ModelRef
from bench.pipeline.executors.tasks import Outcome, TaskEnv, evaluate_task
from bench.pipeline.workspace import WorkspacePaths

DATA = DataRef("digits", 0, None, 200, "t", "e", "x")
TRAINED = Outcome("train a", {"origin": "trained"}, ModelRef("a", "small-cnn", "key", "weights"))


def test_a_worker_that_cannot_see_the_run_folder_says_so(tmp_path):
    env = TaskEnv(WorkspacePaths(tmp_path / "elsewhere" / "smoke", tmp_path / "store", ()))
    with pytest.raises(ExecutorError, match=r"smoke: the run folder is not visible on worker host .*shared file system"):
        evaluate_task(TRAINED, "a", True, DATA, env)


def test_a_finished_cell_is_skipped_and_keeps_its_outputs(tmp_path):
    run = tmp_path / "smoke"
    env = TaskEnv(WorkspacePaths(run, tmp_path / "store", ()))
    (run / "records").mkdir(parents=True)
    cell = EvalCell(ModelRef("b", "small-cnn", "key", "weights"), DATA, diagnose=True)
    for rel in cell.outputs:
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text("done before\n")
    # The same training serves model id b: the evaluation is named, keyed and written as b's.
    out = evaluate_task(TRAINED, "b", True, DATA, env)
    assert out.name == "evaluate b" and out.ref.id == "b" and out.entry["origin"] == "done"
    assert out.keep == {p.rsplit("/", 1)[1] for p in cell.outputs}
    assert {"host", "device", "threads", "seconds", "started", "finished"} <= set(out.entry)
