"""First-writer-wins publishing: a model key is never overwritten, and a run that loses the race uses the winner's weights."""

from __future__ import annotations

from pathlib import Path

import torch

import bench.pipeline.cells.train
from bench.fsutil import publish_once
from bench.pipeline.cells.build import train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.keys import weights_digest
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.data.bundle import load_data
from bench.pipeline.models.store import ModelStore
from bench.pipeline.runner import data_ref
from bench.spec.load import load_suite

ROOT = Path(__file__).resolve().parents[2]


def test_publish_once_keeps_the_first_file(tmp_path):
    path = tmp_path / "a" / "k.pt"
    assert publish_once(path, b"first")
    assert not publish_once(path, b"second")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir()] == ["k.pt"], "no temporary files left behind"


def test_store_never_overwrites_a_key(tmp_path):
    store = ModelStore(tmp_path)
    first, second = {"w": torch.zeros(3)}, {"w": torch.ones(3)}
    assert store.save("k", first, {"by": "first"})
    assert not store.save("k", second, {"by": "second"})
    state, meta = store.load("k")
    assert torch.equal(state["w"], first["w"]) and meta == {"by": "first"}


def test_a_checkpoint_whose_digest_is_not_written_yet_is_loaded_not_deleted(tmp_path):
    # Between linking the checkpoint and writing its digest, a reader on another machine must not delete it.
    store = ModelStore(tmp_path)
    store.save("k", {"w": torch.arange(3.0)}, {})
    (tmp_path / "k.sha256").unlink()
    state, _ = store.load("k")
    assert torch.equal(state["w"], torch.arange(3.0))
    assert (tmp_path / "k.pt").exists()


def test_a_run_that_loses_the_race_uses_the_first_published_weights(tmp_path, monkeypatch):
    spec = load_suite(ROOT / "suites" / "smoke.yaml", ["models.baseline.train.epochs=1"])
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
