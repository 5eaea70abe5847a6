"""The attack cell: one attack on one model, judged on the deployed model's own prediction; its per-sample records shard."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.attacks.base import AttackError
from bench.attacks.ops import lp_norms
from bench.catalogue.attacks import ATTACKS
from bench.errors import CacheError
from bench.pipeline.cells.provenance import record_provenance
from bench.pipeline.cells.values import AttackCell, attack_seed
from bench.pipeline.cells.workspace import Workspace
from bench.pipeline.models.defences import judge
from bench.results.details import details_path, save_details
from bench.results.examples import examples_path, save_examples
from bench.results.records import UNBOUNDED, read_shard, within_budget, write_shard
from bench.results.run_folder import RECORDS
from bench.spec.schema import view_name

log = logging.getLogger(__name__)


def attack(cell: AttackCell, ws: Workspace) -> dict[str, Any]:
    """Run one attack on one model; judge success on the deployed model; write the records shard."""
    spec, data = cell.attack, ws.data(cell.data)
    start = time.perf_counter()
    model = ws.module(cell.model, data)
    crafter = ws.crafting_model(cell.source or cell.model, spec.view, data)
    cls = ATTACKS.get(spec.use)
    atk = cls(spec.params, cls.resolved_norm(spec), attack_seed(cell.seed, spec.id), cls.resolved_batch_size(spec))
    n = min(spec.n_samples or len(data.y_eval), len(data.y_eval))
    clean_path = ws.paths.run_dir / RECORDS / cell.clean
    if not clean_path.is_file():
        raise CacheError(f"{cell.name}: the clean records it is judged against are missing ({clean_path}); evaluate the model first")
    clean_shard = read_shard(clean_path)
    clean_all = clean_shard["clean_pred"].to_numpy()[data.eval_index]
    clean_right = clean_shard["draws_correct"].to_numpy()[data.eval_index]
    hashes = clean_shard["sample_hash"].to_numpy()[data.eval_index]
    x, y = data.x_eval[:n].to(crafter.device), data.y_eval[:n].to(crafter.device)
    label, clean = data.y_eval[:n].numpy(), clean_all[:n]
    base = {
        "model": cell.model.id,
        "attack": spec.id,
        "use": spec.use,
        "view": view_name(spec.view),
        "tag": spec.tag,
        "source": cell.source.id if cell.source else "",
        "kind": cls.kind,
        "norm": atk.norm,
        "sample": data.eval_index[:n],
        "sample_hash": hashes[:n],
        "label": label,
        "clean_pred": clean,
    }
    examples = examples_path(ws.paths.run_dir, Path(cell.shard).name)
    frames = []
    details: list[tuple[float | None, dict[str, Any]]] = []
    budgets: list[float | None] = list(spec.eps) if cls.kind == "fixed_eps" else [None]
    for eps in budgets:
        desc = f"{spec.id} on {cell.model.id}" + (f" eps={eps:g}" if eps is not None else "")
        out = atk(crafter, x, y, eps, desc=desc, quiet=ws.paths.quiet)
        # Each input at its position in the test split: the draws its clean input was judged with.
        judged = judge(model, out.x_adv, y, cell.model.eval_draws, cell.model.judge_seed, data.eval_index[:n])
        if not judged.finite:
            raise AttackError(f"model {cell.model.id} returns NaN or inf logits on adversarial inputs")
        adv, right = judged.pred, judged.draws_correct
        norms = {k: v.cpu().numpy() for k, v in lp_norms(out.x_adv - x).items()}
        moved = out.projected.cpu().numpy()
        per = out.seconds / max(n, 1)
        if eps == budgets[-1]:
            save_examples(examples, x, out.x_adv, label, clean, adv, eps)
        if out.details:
            details.append((eps, out.details))
        if eps is not None:
            frames.append(_rows(base, eps, adv, right, norms, moved, per))
            continue
        # A minimum-norm attack runs once; each budget keeps the samples it broke within that budget (else the clean input).
        for e in [*spec.eps, UNBOUNDED]:
            within = within_budget(norms[atk.norm], e)
            adv_e = np.where(within, adv, clean)
            right_e = np.where(within, right, clean_right[:n])
            norms_e = {k: np.where(within, v, 0.0) for k, v in norms.items()}
            frames.append(_rows(base, e, adv_e, right_e, norms_e, moved, per))
    frame = pd.concat(frames, ignore_index=True)
    if details:
        # Before the shard: the shard marks the cell done, and a done cell's details must be complete.
        meta = {"model": cell.model.id, "attack": spec.id, "use": spec.use}
        save_details(details_path(ws.paths.run_dir, Path(cell.shard).name), meta, data.eval_index[:n], details)
    write_shard(ws.paths.run_dir / cell.shard, frame)
    prov = record_provenance(ws, cell.shard, start)
    log.info("cell %s: %.1fs", cell.name, prov["seconds"])
    return {"key": cell.key, "origin": "ran", "seconds": prov["seconds"], "projected": int(frame["projected"].sum()), "computed": prov}


def _rows(
    base: dict[str, Any], eps: float, adv: np.ndarray, right: np.ndarray, norms: dict[str, np.ndarray], moved: np.ndarray, per: float
) -> pd.DataFrame:
    label, clean = base["label"], base["clean_pred"]
    ok = clean == label
    return pd.DataFrame(
        base
        | {
            "eps": float(eps),
            "adv_pred": adv,
            "success": ok & (adv != label),
            "robust": ok & (adv == label),
            "draws_correct": right,
            "l0": norms["l0"],
            "l2": norms["l2"],
            "linf": norms["linf"],
            "projected": moved,
            "seconds": per,
        }
    )
