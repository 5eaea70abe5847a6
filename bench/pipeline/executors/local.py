"""The local executor: every cell of a run, one after another, in this process.

Models first, in teacher order: each is trained (or loaded), evaluated, and priced;
then every attack cell of the plan. A cell whose outputs already exist is not run
again (unless ``--force``); a failed cell is recorded in the ledger and the run goes
on with the cells that do not depend on it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from bench.errors import BenchError
from bench.pipeline.cells.build import attack_cell, cost_cell, defended_ref, eval_cell, train_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.values import EvalCell, ModelRef
from bench.pipeline.executors import Job, Ledger
from bench.results.run_folder import RunFolder
from bench.spec.plan import attack_plan, model_seed, topo_models

PAUSE_ENV = "BENCH_TEST_PAUSE_AFTER_CELLS"


def run_local(job: Job, ledger: Ledger) -> dict[str, Any]:
    """Execute every cell of ``job`` here, recording into ``ledger``; return what the manifest says about the executor."""
    evaluations: dict[str, EvalCell] = {}  # model id -> its evaluation, whose clean shard its attacks read
    models = _run_models(job, ledger, evaluations)
    _run_attacks(job, ledger, models, evaluations)
    return {"kind": "local"}


def _run_models(job: Job, ledger: Ledger, evaluations: dict[str, EvalCell]) -> dict[str, ModelRef]:
    """Train or load each model (teachers first), then evaluate it; return the models that are ready."""
    spec, ws = job.spec, job.workspace
    folder = RunFolder(ws.paths.run_dir)
    models: dict[str, ModelRef] = {}  # behind their defences: what is evaluated, attacked and priced
    networks: dict[str, ModelRef] = {}  # as trained: what a student's soft labels come from
    for mid in topo_models(spec):
        m = spec.model(mid)
        teacher = networks.get(m.teacher) if m.teacher else None
        train = train_cell(m, job.data, model_seed(spec, mid), ws.runtime, teacher)
        if m.teacher and teacher is None:
            ledger.fail(train.name, f"teacher {m.teacher} is not available")
            continue
        try:
            done = execute(train, ws)
            networks[mid] = done.pop("ref")
            model = defended_ref(networks[mid], m)
            ledger.cells[train.name] = done
            evaluation = eval_cell(model, job.data, m.evaluate, ws.runtime)
            ledger.keep |= {Path(p).name for p in evaluation.outputs}
            if job.force or not folder.is_done(evaluation.outputs):
                ledger.cells[evaluation.name] = execute(evaluation, ws)
            else:
                ledger.cells[evaluation.name] = {"origin": "done", "computed": folder.provenance(evaluation.shard)}
            evaluations[mid] = evaluation
        except BenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed model must not stop the other cells
            ledger.fail(train.name, exc)
            continue
        finally:
            ledger.save()
        models[mid] = model
        try:
            _measure_cost(job, ledger, model, models)
        except BenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed measurement must not stop the model's attacks
            ledger.fail(f"cost {mid}", exc)
        ledger.save()
    return models


def _measure_cost(job: Job, ledger: Ledger, model: ModelRef, models: dict[str, ModelRef]) -> None:
    """Measure what ``model`` costs (or find the measurement an earlier run took with the same weights, device and threads)."""
    spec, ws = job.spec, job.workspace
    chain, cur = [], spec.model(model.id).teacher
    while cur is not None and cur in models:
        chain.append(models[cur])
        cur = spec.model(cur).teacher
    cell = cost_cell(model, tuple(chain), job.data, ws.runtime, ws.paths.device, torch_threads())
    if job.force or not RunFolder(ws.paths.run_dir).is_done(cell.outputs):
        ledger.costs[model.id] = execute(cell, ws)
    else:
        ledger.costs[model.id] = {"origin": "done", "file": cell.output}


def torch_threads() -> int:
    """The intra-op threads torch uses in this process (latency depends on them, so they key a cost measurement)."""
    import torch

    return torch.get_num_threads()


def _run_attacks(job: Job, ledger: Ledger, models: dict[str, ModelRef], evaluations: dict[str, EvalCell]) -> None:
    """Run each attack cell that is not done yet; isolate failures."""
    spec, ws = job.spec, job.workspace
    folder = RunFolder(ws.paths.run_dir)
    ran = 0
    # One bar over the attack cells: a cell is often one batch, whose own bar would sit at 0/1 until it is done.
    bar = tqdm(attack_plan(spec), desc="attack cells", unit="cell", disable=job.quiet)
    for planned in bar:
        a = spec.attacks[planned.attack]
        name = f"{a.id} on {planned.model}"
        bar.set_postfix_str(name)
        if planned.model not in models or (planned.source and planned.source not in models):
            ledger.fail(name, "its model is not available")
            continue
        source = models[planned.source] if planned.source else None
        seed = model_seed(spec, planned.model)
        cell = attack_cell(a, models[planned.model], job.data, seed, ws.runtime, evaluations[planned.model], source)
        ledger.keep |= {Path(p).name for p in cell.outputs}
        if folder.is_done(cell.outputs) and not job.force:
            ledger.cells[cell.name] = {"key": cell.key, "origin": "done", "computed": folder.provenance(cell.shard)}
            continue
        try:
            ledger.cells[cell.name] = execute(cell, ws)
        except Exception as exc:  # noqa: BLE001 - one broken attack must not stop the others
            ledger.fail(cell.name, exc)
        ledger.save()
        ran += 1
        _pause_for_tests(ws.paths.run_dir, ran)


def _pause_for_tests(run_dir: Path, ran: int) -> None:
    """Test hook: with $BENCH_TEST_PAUSE_AFTER_CELLS=N, stop after N attack cells of this invocation, say so, and wait.

    Tests that interrupt or kill a run use it to signal at a known point instead of
    guessing with a clock; nothing else sets the variable.
    """
    after = os.environ.get(PAUSE_ENV)
    if not after or ran != int(after):
        return
    (run_dir / ".paused").write_text(str(ran))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)
