"""Cells are self-contained: a cell value plus paths computes the same shard in a fresh process."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from helpers.outputs import without_seconds

from bench.catalogue.datasets import data_roots
from bench.commands.run import run_and_report
from bench.pipeline.cells.build import attack_cell, eval_cell, train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.workspace import Workspace, WorkspacePaths
from bench.pipeline.data.bundle import load_data
from bench.pipeline.runner import RunOptions, data_ref
from bench.results.run_folder import RunFolder
from bench.spec.load import load_suite
from bench.spec.plan import model_seed, topo_models

ROOT = Path(__file__).resolve().parents[2]
SUITE = [
    "attacks=[{id: pgd, use: torchattacks.pgd, params: {steps: 5}, eps: [0.3]}, {id: cw, use: bench.cw_l2, "
    "params: {binary_search_steps: 3, max_iter: 20}, n_samples: 40}, "
    "{id: transfer, use: torchattacks.fgsm, source: baseline, models: [distilled], eps: [0.3]}]",
    *[f"models.{m}.train.epochs=3" for m in ("baseline", "teacher", "distilled")],
]

FRESH = """
import pickle, sys, torch
torch.set_num_threads(1)
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.workspace import Workspace
cells, paths = pickle.load(open(sys.argv[1], "rb"))
ws = Workspace(paths)
for cell in cells:
    execute(cell, ws)
print("torch" in sys.modules)
"""


def test_cells_run_in_a_fresh_process_from_their_values_and_paths(tmp_path):
    spec = load_suite(ROOT / "suites" / "smoke.yaml", SUITE)
    store = tmp_path / "store"
    run_dir = run_and_report(spec, RunOptions(out=tmp_path / "here", store_root=store))

    # Rebuild the same cells as plain values; the models come back from the store, not from memory.
    roots = data_roots(None, spec.dataset.root)
    data = load_data(spec.dataset.name, roots, spec.seed, spec.dataset.train_size, spec.dataset.eval_size)
    other = tmp_path / "there" / "smoke"
    (other / "records").mkdir(parents=True)
    ws = Workspace(WorkspacePaths(other, store, tuple(roots)), data)
    ref, refs = data_ref(spec, data), {}
    for mid in topo_models(spec):
        m = spec.model(mid)
        done = execute(train_cell(m, ref, model_seed(spec, mid), ws.runtime, refs.get(m.teacher)), ws)
        assert done["origin"] == "cache", "every model comes from the store the first run filled"
        refs[mid] = done["ref"]
    evaluated = {m.id: eval_cell(refs[m.id], ref, m.evaluate, ws.runtime) for m in spec.models}
    attacks = [
        attack_cell(spec.attacks[0], refs["baseline"], ref, spec.seed, ws.runtime, evaluated["baseline"], None),
        attack_cell(spec.attacks[1], refs["distilled"], ref, spec.seed, ws.runtime, evaluated["distilled"], None),
        attack_cell(spec.attacks[2], refs["distilled"], ref, spec.seed, ws.runtime, evaluated["distilled"], refs["baseline"]),
    ]
    job = tmp_path / "cells.pkl"
    job.write_bytes(pickle.dumps(([*evaluated.values(), *attacks], ws.paths)))
    out = subprocess.run([sys.executable, "-c", FRESH, str(job)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr

    here = RunFolder(run_dir)
    assert all(here.is_done(c.outputs) for c in [*evaluated.values(), *attacks]), "the runner wrote the same names"
    for cell in [*evaluated.values(), *attacks]:
        for rel in cell.outputs:
            assert without_seconds(other / rel) == without_seconds(run_dir / rel), rel
