"""The evaluate cell: a model's clean records on the whole test split, and its gradient-masking diagnostics."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from bench.attacks.base import AttackError
from bench.fsutil import atomic_write_text
from bench.pipeline.cells.provenance import record_provenance
from bench.pipeline.cells.values import EvalCell
from bench.pipeline.cells.workspace import Workspace
from bench.pipeline.measure.diagnostics import diagnose
from bench.pipeline.models.defences import judge, seeded
from bench.results.records import CLEAN, write_shard


def sample_hashes(x: torch.Tensor) -> list[str]:
    """A short digest per input, so two runs can be shown to have used the same samples."""
    import hashlib

    arr = x.detach().cpu().numpy()
    return [hashlib.sha256(a.tobytes()).hexdigest()[:16] for a in arr]


def evaluate(cell: EvalCell, ws: Workspace) -> dict[str, Any]:
    """Write the model's clean shard (every test sample) and, if it is attacked, its diagnostics."""
    start = time.perf_counter()
    data = ws.data(cell.data)
    module = ws.module(cell.model, data)
    ref = cell.model
    judged = judge(module, data.x_test, data.y_test, ref.eval_draws, ref.judge_seed, np.arange(len(data.y_test)))
    if not judged.finite:
        raise AttackError(f"model {cell.model.id} returns NaN or inf logits on clean inputs")
    pred = judged.pred
    label = data.y_test.numpy()
    n = len(label)
    frame = pd.DataFrame(
        {
            "model": cell.model.id,
            "attack": CLEAN,
            "use": "",
            "view": "logits",
            "tag": "",
            "source": "",
            "kind": "",
            "norm": "",
            "eps": 0.0,
            "sample": np.arange(n),
            "sample_hash": sample_hashes(data.x_test),
            "label": label,
            "clean_pred": pred,
            "adv_pred": pred,
            "success": False,
            "robust": pred == label,
            "draws_correct": judged.draws_correct,
            "l0": np.zeros(n),
            "l2": np.zeros(n),
            "linf": np.zeros(n),
            "projected": False,
            "seconds": 0.0,
        }
    )
    run_dir = ws.paths.run_dir
    if cell.diagnose:
        with seeded(ref.judge_seed, ws.device):  # a randomized model's draws, so the diagnostics are the same in every run
            diag = diagnose(cell.model.id, module, data.x_eval, data.y_eval, data.eval_index, eval_draws=ref.eval_draws)
        path = run_dir / cell.diagnostics
        atomic_write_text(path, diag.to_csv(index=False, float_format="%.9g"))
    write_shard(run_dir / cell.shard, frame)
    return {"origin": "ran", "computed": record_provenance(ws, cell.shard, start)}
