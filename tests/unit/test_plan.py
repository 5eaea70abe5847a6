"""The plan (bench.spec.plan): the run's task graph, its critical path and ideal wall time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.spec.load import load_suite
from bench.spec.plan import PlannedCell, cell_graph, critical_path, ideal_wall_time, tails

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
