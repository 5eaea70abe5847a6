"""What each kind of cell does, and ``execute``, the one entry point that runs any cell.

Every function takes a cell and a workspace, writes the cell's outputs
atomically under the run folder (or the model store), and returns what the
manifest records about it.
"""

from __future__ import annotations

import json
import logging
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from bench.attacks import indicators, losses, ops, views
from bench.attacks.base import AttackError
from bench.attacks.ops import lp_norms
from bench.catalogue.attacks import ATTACKS
from bench.errors import CacheError
from bench.fsutil import atomic_write_text, file_sha256
from bench.pipeline.cells.keys import architecture_classes, attack_modules, digest
from bench.pipeline.cells.provenance import cell_provenance
from bench.pipeline.cells.values import AttackCell, Cell, CostCell, EvalCell, ModelRef, TrainCell, attack_seed, weights_digest
from bench.pipeline.cells.workspace import Workspace
from bench.pipeline.measure import costs, diagnostics
from bench.pipeline.measure.diagnostics import diagnose
from bench.pipeline.models import external
from bench.pipeline.models.networks import build_model, load_weights
from bench.pipeline.models.store import load_state_dict
from bench.pipeline.training import adversarial
from bench.pipeline.training import plain as training

# Plain training, or adversarial training when train.adversarial is set (which hands a plain model to training.fit untouched).
from bench.pipeline.training.adversarial import fit
from bench.pipeline.training.plain import predict_logits, soft_labels
from bench.results.details import details_path, save_details
from bench.results.examples import examples_path, save_examples
from bench.results.records import CLEAN, UNBOUNDED, read_shard, within_budget, write_shard
from bench.results.run_folder import RECORDS, provenance_path
from bench.spec.schema import view_name

log = logging.getLogger(__name__)


@cache
def architecture_code(arch: str | None) -> str:
    """Digest of an architecture's class and its bench bases: part of every result computed with it.

    An external model (``arch`` None) brings its network in its file, which its weights digest covers;
    what bench adds is the loader and its wrapper.
    """
    return digest(external) if arch is None else digest(*architecture_classes(arch))


@cache
def train_code(arch: str | None, adversarial_training: bool = False) -> str:
    """Digest of the code that determines a trained model: its architecture, the training loop and the train step.

    An adversarially trained model also depends on ``bench.pipeline.training.adversarial`` (its loop and training attack).
    A plain one does not: ``adversarial.fit`` hands it to ``training.fit`` untouched, so its key is what it was before
    adversarial training existed, and editing adversarial training retrains only adversarially trained models.
    For an external model (``arch`` None): the loader and the step that loads and checks it.
    """
    if arch is None:
        return digest(architecture_code(None), train, _external)
    if adversarial_training:
        return digest(architecture_code(arch), training, train, adversarial)
    return digest(architecture_code(arch), training, train)


@cache
def evaluate_code() -> str:
    """Digest of the code behind clean predictions and diagnostics."""
    return digest(diagnostics, training.predict_logits, evaluate, sample_hashes)


@cache
def attack_code(use: str) -> str:
    """Digest of the code behind an attack cell: the attack's modules, the contract's helpers and the cell itself."""
    return digest(*attack_modules(use), ops, views, losses, indicators, attack, _rows, training.predict_logits)


@cache
def cost_code() -> str:
    """Digest of the code that measures a model's cost."""
    return digest(costs, measure, _training_cost)


def code_of(cell: Cell) -> str:
    """The code digest this process would compute ``cell`` with."""
    if isinstance(cell, TrainCell):
        return train_code(cell.model.arch, cell.model.train.adversarial is not None)
    if isinstance(cell, EvalCell):
        return evaluate_code()
    if isinstance(cell, CostCell):
        return cost_code()
    return attack_code(cell.attack.use)


def execute(cell: Cell, ws: Workspace) -> dict[str, Any]:
    """Compute one cell from its value and the workspace's paths; write its outputs; return its manifest entry.

    The cell names the runtime and code it was planned with; a process with other
    library versions, another device type or other code refuses it rather than
    write results under a key that does not describe them. A ``TrainCell`` also
    returns its ``ModelRef`` under ``"ref"``, for the cells that depend on it.
    """
    here = ws.runtime.subset([name for name, _ in cell.runtime.packages])
    if cell.runtime != here:
        raise CacheError(f"{cell.name}: planned for {cell.runtime.describe()}, but this process has {here.describe()}")
    if cell.code != code_of(cell):
        raise CacheError(f"{cell.name}: the code here differs from the code the run was planned with")
    if isinstance(cell, TrainCell):
        return train(cell, ws)
    if isinstance(cell, EvalCell):
        return evaluate(cell, ws)
    if isinstance(cell, CostCell):
        return measure(cell, ws)
    return attack(cell, ws)


def _record(ws: Workspace, output: str, start: float) -> dict[str, Any]:
    prov = cell_provenance(ws.device, time.perf_counter() - start)
    atomic_write_text(provenance_path(ws.paths.run_dir, output), json.dumps(prov, indent=2, sort_keys=True) + "\n")
    return prov


def train(cell: TrainCell, ws: Workspace) -> dict[str, Any]:
    """Load the model from its checkpoint or the store, or train and store it."""
    spec, data = cell.model, ws.data(cell.data)
    start = time.perf_counter()
    if spec.kind == "external":
        return _external(cell, ws, start)
    torch.manual_seed(cell.seed)  # the initial weights, if this model gets trained below
    module = build_model(spec.arch, data.shape, data.n_classes)
    if spec.checkpoint is not None:
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise CacheError(f"models[{spec.id}].checkpoint: no such file {path}")
        state = load_state_dict(path)
        load_weights(module, state, str(path), spec.arch)
        sha = weights_digest(state)
        ref = ModelRef(spec.id, spec.arch, cell.key(sha), sha, architecture_code(spec.arch), str(path))
        return _trained(ws, ref, module, "checkpoint", start, cell_provenance(ws.device, time.perf_counter() - start))
    key = cell.key()
    with ws.store.lock(key):
        found = ws.store.load(key)
        if found is not None:
            load_weights(module, found[0], f"cache {key[:12]}", spec.arch)
            log.info("model %s: loaded from the store (%s)", spec.id, key[:12])
            ref = ModelRef(spec.id, spec.arch, key, weights_digest(found[0]), architecture_code(spec.arch))
            return _trained(ws, ref, module, "cache", start, found[1].get("provenance"))
        targets = None
        if spec.kind == "student":
            if cell.teacher is None:
                raise CacheError(f"models[{spec.id}]: a student needs its teacher's weights")
            targets = soft_labels(ws.module(cell.teacher, data), data.x_train, spec.train.temperature)
        module.to(ws.device)
        fit(module, data.x_train, data.y_train, spec.train, cell.seed, soft_targets=targets, desc=f"train {spec.id}", quiet=ws.paths.quiet)
        seconds = time.perf_counter() - start
        acc = float((predict_logits(module, data.x_test).argmax(1).cpu() == data.y_test).float().mean())
        prov = cell_provenance(ws.device, seconds)
        meta = {
            "id": spec.id,
            "kind": spec.kind,
            "arch": spec.arch,
            "train": spec.train.canonical(),
            "seconds": round(seconds, 2),
            "test_accuracy": acc,
            "data": data.train_fingerprint,
            "provenance": prov,
        }
        mine = weights_digest(module.state_dict())
        if not ws.store.save(key, module.state_dict(), meta):
            # Another run published this recipe while we trained (no shared lock across machines): its weights stand.
            found = ws.store.load(key)
            if found is None:
                raise CacheError(f"model {spec.id}: another run published it first, but its checkpoint cannot be read (key {key[:12]})")
            load_weights(module, found[0], f"cache {key[:12]}", spec.arch)
            ref = ModelRef(spec.id, spec.arch, key, weights_digest(found[0]), architecture_code(spec.arch))
            extra = {"raced": True, "discarded_weights": mine}
            return _trained(ws, ref, module, "cache", start, found[1].get("provenance"), extra)
        log.info("model %s: trained in %.1fs, clean accuracy %.4f", spec.id, seconds, acc)
    ref = ModelRef(spec.id, spec.arch, key, mine, architecture_code(spec.arch))
    return _trained(ws, ref, module, "trained", start, prov)


def _external(cell: TrainCell, ws: Workspace, start: float) -> dict[str, Any]:
    # A program file: loaded, checked against the data's classes, keyed by the file's sha256; never trained.
    spec, data = cell.model, ws.data(cell.data)
    path = Path(spec.checkpoint or "")
    where = f"models[{spec.id}].checkpoint"
    module = external.load_program(path)
    external.check_outputs(module, data.x_test, data.n_classes, data.name, where)
    sha = file_sha256(path)
    ref = ModelRef(spec.id, None, cell.key(sha), sha, architecture_code(None), str(path), module.format)
    log.info("model %s: %s program %s (sha256 %s)", spec.id, module.format, path.name, sha[:12])
    return _trained(ws, ref, module, "external", start, cell_provenance(ws.device, time.perf_counter() - start))


def _trained(
    ws: Workspace,
    ref: ModelRef,
    module: torch.nn.Module,
    origin: str,
    start: float,
    prov: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ws.remember(ref, module.to(ws.device).eval())
    entry = {"ref": ref, "key": ref.key, "weights": ref.weights, "origin": origin, "seconds": round(time.perf_counter() - start, 2)}
    return entry | {"computed": prov} | (extra or {})


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
    logits = predict_logits(module, data.x_test).cpu()
    if not torch.isfinite(logits).all():
        raise AttackError(f"model {cell.model.id} returns NaN or inf logits on clean inputs")
    pred = logits.argmax(1).numpy()
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
            "l0": np.zeros(n),
            "l2": np.zeros(n),
            "linf": np.zeros(n),
            "projected": False,
            "seconds": 0.0,
        }
    )
    run_dir = ws.paths.run_dir
    if cell.diagnose:
        diag = diagnose(cell.model.id, module, data.x_eval, data.y_eval, data.eval_index)
        path = run_dir / cell.diagnostics
        atomic_write_text(path, diag.to_csv(index=False, float_format="%.9g"))
    write_shard(run_dir / cell.shard, frame)
    return {"origin": "ran", "computed": _record(ws, cell.shard, start)}


def attack(cell: AttackCell, ws: Workspace) -> dict[str, Any]:
    """Run one attack on one model; judge success on the deployed model; write the records shard."""
    spec, data = cell.attack, ws.data(cell.data)
    start = time.perf_counter()
    model = ws.module(cell.model, data)
    crafter = ws.crafting_model(cell.source or cell.model, spec.view, data)
    cls = ATTACKS.get(spec.use)
    atk = cls(spec.params, spec.norm or cls.norms[0], attack_seed(cell.seed, spec.id), spec.batch_size or cls.default_batch_size)
    n = min(spec.n_samples or len(data.y_eval), len(data.y_eval))
    clean_path = ws.paths.run_dir / RECORDS / cell.clean
    if not clean_path.is_file():
        raise CacheError(f"{cell.name}: the clean records it is judged against are missing ({clean_path}); evaluate the model first")
    clean_shard = read_shard(clean_path)
    clean_all = clean_shard["clean_pred"].to_numpy()[data.eval_index]
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
        adv_logits = predict_logits(model, out.x_adv).cpu()
        if not torch.isfinite(adv_logits).all():
            raise AttackError(f"model {cell.model.id} returns NaN or inf logits on adversarial inputs")
        adv = adv_logits.argmax(1).numpy()
        norms = {k: v.cpu().numpy() for k, v in lp_norms(out.x_adv - x).items()}
        moved = out.projected.cpu().numpy()
        per = out.seconds / max(n, 1)
        if eps == budgets[-1]:
            save_examples(examples, x, out.x_adv, label, clean, adv, eps)
        if out.details:
            details.append((eps, out.details))
        if eps is not None:
            frames.append(_rows(base, eps, adv, norms, moved, per))
            continue
        # A minimum-norm attack runs once; each budget keeps the samples it broke within that budget.
        for e in [*spec.eps, UNBOUNDED]:
            within = within_budget(norms[atk.norm], e)
            adv_e = np.where(within, adv, clean)
            norms_e = {k: np.where(within, v, 0.0) for k, v in norms.items()}
            frames.append(_rows(base, e, adv_e, norms_e, moved, per))
    frame = pd.concat(frames, ignore_index=True)
    if details:
        # Before the shard: the shard marks the cell done, and a done cell's details must be complete.
        meta = {"model": cell.model.id, "attack": spec.id, "use": spec.use}
        save_details(details_path(ws.paths.run_dir, Path(cell.shard).name), meta, data.eval_index[:n], details)
    write_shard(ws.paths.run_dir / cell.shard, frame)
    prov = _record(ws, cell.shard, start)
    log.info("cell %s: %.1fs", cell.name, prov["seconds"])
    return {"key": cell.key, "origin": "ran", "seconds": prov["seconds"], "projected": int(frame["projected"].sum()), "computed": prov}


def _training_cost(ws: Workspace, ref: ModelRef) -> dict[str, Any]:
    # What training this model took, as the store recorded it when it was trained (a cached model keeps its own).
    entry: dict[str, Any] = {"id": ref.id, "train_seconds": None, "epochs": None, "trained_at": None, "threads": None, "device": None}
    if ref.external is not None or ref.checkpoint is not None:
        return entry | {"origin": "external" if ref.external else "checkpoint"}
    meta_path = ws.store.paths(ref.key)[2]
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return entry | {"origin": "unknown"}
    prov = meta.get("provenance") or {}
    return entry | {
        "origin": "store",
        "train_seconds": meta.get("seconds"),
        "epochs": (meta.get("train") or {}).get("epochs"),
        "trained_at": prov.get("computed_at"),
        "threads": prov.get("threads"),
        "device": prov.get("device"),
    }


def measure(cell: CostCell, ws: Workspace) -> dict[str, Any]:
    """Measure one model's size, FLOPs and latency here and now; add its training cost; write its cost file."""
    start = time.perf_counter()
    data = ws.data(cell.data)
    module = ws.module(cell.model, data)
    ref = cell.model
    path = Path(ref.checkpoint or "")
    size = path.stat().st_size if ref.external is not None else costs.state_dict_bytes(module)
    try:
        flops: int | None = costs.flops_per_sample(module, data.x_test.to(ws.device))
        flops_note = ""
    except Exception as exc:  # noqa: BLE001 - a program FlopCounterMode cannot trace still gets its other costs
        flops, flops_note = None, f"FlopCounterMode failed: {type(exc).__name__}: {exc}"
    body = {
        "model": ref.id,
        "arch": ref.arch,
        "weights": ref.weights,
        "params": costs.parameter_count(module),
        "checkpoint_bytes": size,
        "flops_per_sample": flops,
        "flops_note": flops_note,
        "device": str(ws.device),
        **costs.latency(module, data.x_test, ws.device, costs.LatencySettings()),
        "training": _training_cost(ws, ref),
        "teachers": [_training_cost(ws, t) for t in cell.teachers],
    }
    prov = cell_provenance(ws.device, time.perf_counter() - start)
    atomic_write_text(ws.paths.run_dir / cell.output, json.dumps(body | {"measured": prov}, indent=2, sort_keys=True) + "\n")
    log.info("cost %s: %s parameters, %s FLOPs, %.2f ms at batch 1", ref.id, body["params"], flops, body["latency_batch1_ms"])
    return {"origin": "measured", "file": cell.output, "computed": prov}


def _rows(base: dict[str, Any], eps: float, adv: np.ndarray, norms: dict[str, np.ndarray], moved: np.ndarray, per: float) -> pd.DataFrame:
    label, clean = base["label"], base["clean_pred"]
    ok = clean == label
    return pd.DataFrame(
        base
        | {
            "eps": float(eps),
            "adv_pred": adv,
            "success": ok & (adv != label),
            "robust": ok & (adv == label),
            "l0": norms["l0"],
            "l2": norms["l2"],
            "linf": norms["linf"],
            "projected": moved,
            "seconds": per,
        }
    )
