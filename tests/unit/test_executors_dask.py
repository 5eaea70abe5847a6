"""The Dask executor's driver (bench.pipeline.executors.dask): the code digests it sends its workers, the GPU a task asks for."""

from __future__ import annotations

from pathlib import Path

from bench.pipeline.cells.keys import Runtime
from bench.pipeline.cells.values import DataRef
from bench.pipeline.cells.workspace import WorkspacePaths
from bench.pipeline.executors import GPU
from bench.pipeline.executors.dask import planned_code, submit
from bench.pipeline.executors.dask_tasks import TaskEnv
from bench.spec.load import load_suite


def test_the_driver_sends_a_digest_for_every_kind_of_cell_the_suite_has():
    suite = load_suite(Path(__file__).resolve().parents[2] / "suites" / "smoke.yaml")
    kinds = dict(planned_code(suite))
    assert {"evaluate"} | {f"train:{m.arch}" for m in suite.models} | {f"attack:{a.use}" for a in suite.attacks} == set(kinds)
    defences = load_suite(Path(__file__).resolve().parents[2] / "suites" / "mnist-defences.yaml")
    assert "train:papernot-mnist:adversarial" in dict(planned_code(defences)), "adversarial training is other code"


class FakeFuture:
    def __init__(self, key: str) -> None:
        self.key = key


class RecordingClient:
    """Stands in for a Dask client: records each task's function name, resources and task environment."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, dict | None, TaskEnv]] = []

    def submit(self, fn, *args, key: str, priority: int, resources: dict | None = None) -> FakeFuture:
        env = next(a for a in args if isinstance(a, TaskEnv))
        self.tasks.append((fn.__name__, resources, env))
        return FakeFuture(key)


def submitted(device: str) -> dict[str, tuple[dict | None, TaskEnv]]:
    """The smoke suite plus a gradient-free attack, submitted for ``device``: per cell, its resources and environment."""
    square = "{id: square, use: torchattacks.square, eps: [0.3], params: {n_queries: 10}}"
    spec = load_suite(
        Path(__file__).resolve().parents[2] / "suites" / "smoke.yaml",
        [f"attacks=[{{id: fgsm, use: torchattacks.fgsm, eps: [0.3]}}, {square}]"],
    )
    paths = WorkspacePaths(Path("/shared/run"), Path("/shared/store"), (), device)
    env = TaskEnv(paths, Runtime.here(device), planned_code(spec))
    client = RecordingClient()
    nodes = submit(client, spec, DataRef("digits", 0, None, 200, "t", "e", "x"), env)
    assert len(nodes) == len(client.tasks) == 3 + 3 + 4, "3 trainings, 3 evaluations, 2 attacks on 2 models"
    return {node.name: task[1:] for node, task in zip(nodes, client.tasks, strict=True)}


def test_a_gpu_run_puts_training_and_gradient_attacks_on_a_gpu_and_every_other_cell_on_any_worker():
    cells = submitted("cuda")
    gpu = {name for name, (resources, _) in cells.items() if resources == {GPU: 1}}
    assert gpu == {"train baseline", "train teacher", "train distilled", "fgsm on baseline", "fgsm on distilled"}
    for name, (resources, env) in cells.items():
        if name in gpu:
            assert env.paths.device == "cuda" and env.runtime.device_type == "cuda", name
        else:  # no resource restriction: any worker may run it, a CPU-only one included, and it is planned for the CPU
            assert resources is None and env.paths.device == "cpu" and env.runtime.device_type == "cpu", name
    assert {n for n in cells if n not in gpu} == {"evaluate baseline", "evaluate teacher", "evaluate distilled"} | {
        "square on baseline",
        "square on distilled",
    }


def test_a_cpu_run_asks_for_no_resource():
    assert all(resources is None and env.paths.device == "cpu" for resources, env in submitted("cpu").values())
