"""The run's task graph, its critical path and ideal wall time, and how the executor is chosen."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.errors import ExecutorError, SpecError
from bench.pipeline.executors import ExecutorOptions, resolve
from bench.spec.load import load_suite
from bench.spec.plan import PlannedCell, cell_graph, critical_path, ideal_wall_time, tails
from bench.spec.schema import ExecutorSpec

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "suites" / "smoke.yaml"

# a(3) -> b(2) -> d(1); c(4) -> e(1): 11 s of work, the longest chain 6 s.
GRAPH = [
    PlannedCell("a", (), 3.0),
    PlannedCell("c", (), 4.0),
    PlannedCell("b", ("a",), 2.0),
    PlannedCell("e", ("c",), 1.0),
    PlannedCell("d", ("b",), 1.0),
]


def test_critical_path_and_ideal_wall_time():
    assert critical_path(GRAPH) == (["a", "b", "d"], 6.0)
    assert tails(GRAPH) == {"a": 6.0, "b": 3.0, "d": 1.0, "c": 5.0, "e": 1.0}
    assert ideal_wall_time(GRAPH, 1) == 11.0
    # Two workers: a then b then d on one, c then e on the other; nothing waits longer than the chain.
    assert ideal_wall_time(GRAPH, 2) == 6.0
    assert ideal_wall_time(GRAPH, 128) == 6.0
    # A worker idles until its next cell's inputs exist: b waits for a on the other worker.
    assert ideal_wall_time([PlannedCell("a", (), 5.0), PlannedCell("x", (), 1.0), PlannedCell("b", ("a",), 1.0)], 2) == 6.0
    with pytest.raises(ValueError):
        ideal_wall_time(GRAPH, 0)


def test_smoke_graph_follows_teachers_models_and_sources():
    graph = {c.name: c for c in cell_graph(load_suite(SMOKE))}
    assert len(graph) == 3 + 3 + 13
    assert graph["train distilled"].deps == ("train teacher",)
    assert graph["evaluate teacher"].deps == ("train teacher",)
    assert graph["pgd on baseline"].deps == ("evaluate baseline",)
    assert graph["transfer-pgd on distilled"].deps == ("evaluate distilled", "evaluate baseline")
    names = list(graph)
    assert all(names.index(d) < names.index(n) for n, c in graph.items() for d in c.deps), "dependencies come first"
    chain, cost = critical_path(list(graph.values()))
    assert chain[:3] == ["train teacher", "train distilled", "evaluate distilled"] and cost > 0


def test_validate_prints_critical_path_and_ideal_wall_time():
    res = CliRunner().invoke(cli, ["validate", str(ROOT / "suites" / "mnist-temperature.yaml"), "--workers", "8"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[-2].startswith("critical path (~") and "train teacher-t" in lines[-2] and " -> " in lines[-2]
    assert lines[-1].startswith("ideal wall time on 8 worker(s): ~")
    assert "critical path" not in CliRunner().invoke(cli, ["validate", str(SMOKE)]).output


def test_executor_comes_from_flags_then_the_suite():
    assert resolve(None) == ExecutorOptions("local")
    suite = ExecutorSpec(kind="dask", workers=4, torch_threads=2)
    assert resolve(suite) == ExecutorOptions("dask", workers=4, torch_threads=2)
    assert resolve(suite, workers=2) == ExecutorOptions("dask", workers=2, torch_threads=2)
    assert resolve(suite, "local") == ExecutorOptions("local"), "another executor drops the suite's Dask settings"
    assert resolve(suite, scheduler="tcp://10.0.0.1:8786") == ExecutorOptions("dask", scheduler="tcp://10.0.0.1:8786", torch_threads=2)


@pytest.mark.parametrize(
    "opts, message",
    [
        (ExecutorOptions("local", workers=2), "--workers: only with --executor dask"),
        (ExecutorOptions("dask", workers=0), "--workers 0: must be at least 1"),
        (ExecutorOptions("dask", workers=2, scheduler="tcp://h:1"), "--scheduler: the running cluster has its own workers"),
        (ExecutorOptions("dask", scheduler="h:8786"), "--scheduler h:8786: expected an address like tcp://host:8786"),
        (ExecutorOptions("ray"), "executor 'ray': choose one of local, dask"),
    ],
)
def test_bad_executor_options_are_one_line_errors(opts, message):
    with pytest.raises(ExecutorError, match=message):
        opts.check()


def test_the_suite_may_name_its_executor_without_changing_its_hash():
    plain = load_suite(SMOKE)
    on_dask = load_suite(SMOKE, ["executor={kind: dask, workers: 4}"])
    assert on_dask.executor == ExecutorSpec(kind="dask", workers=4)
    assert on_dask.spec_hash() == plain.spec_hash()
    with pytest.raises(SpecError, match=r"executor\.workerz: unknown field; did you mean 'workers'\?"):
        load_suite(SMOKE, ["executor={kind: dask, workerz: 4}"])
