"""The train cell (bench.pipeline.cells.train): a run that loses the race to publish a model uses the winner's weights."""

from __future__ import annotations

import torch
from helpers.suites import SMOKE

import bench.pipeline.cells.train
from bench.pipeline.cells.build import train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.keys import weights_digest
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.data.bundle import load_data
from bench.pipeline.models.store import ModelStore
from bench.pipeline.runner import data_ref
from bench.spec.load import load_suite


def test_a_run_that_loses_the_race_uses_the_first_published_weights(tmp_path, monkeypatch):
    spec = load_suite(SMOKE, ["models.baseline.train.epochs=1"])
    m = spec.model("baseline")
    data = load_data(spec.dataset.name, [], spec.seed, spec.dataset.train_size, spec.dataset.eval_size)
    ws = Workspace(WorkspacePaths(tmp_path / "run", tmp_path / "store", ()), data)
    cell = train_cell(m, data_ref(spec, data), spec.seed, ws.runtime, None)
    key = cell.key()
    real_fit = bench.pipeline.cells.train.fit
    theirs: dict[str, torch.Tensor] = {}

    def fit_while_another_machine_publishes(module, *args, **kwargs):
        out = real_fit(module, *args, **kwargs)
        # Another run, on a machine whose file lock this one cannot see, publishes the same key first.
        theirs.update({k: v + 1.0 for k, v in module.state_dict().items()})
        assert ModelStore(tmp_path / "store").save(key, theirs, {"by": "the other run"})
        return out

    monkeypatch.setattr(bench.pipeline.cells.train, "fit", fit_while_another_machine_publishes)
    done = execute(cell, ws)
    assert done["origin"] == "cache" and done["raced"] is True
    assert done["weights"] == done["ref"].weights == weights_digest(theirs) != done["discarded_weights"]
    state, meta = ws.store.load(key)
    assert weights_digest(state) == weights_digest(theirs) and meta == {"by": "the other run"}
    assert weights_digest(ws.module(done["ref"], data).state_dict()) == weights_digest(theirs), "later cells use the winner"
