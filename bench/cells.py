"""The two kinds of work a run is made of, each independent given its inputs.

* a *train cell* produces one model (from the store, a checkpoint file, or training);
* an *attack cell* runs one attack on one model and returns its per-sample records.

A distributed executor can run cells anywhere that has the data and the model store.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from bench.attacks import ATTACKS
from bench.attacks.base import AttackError, Target, lp_norms
from bench.attacks.views import make_view
from bench.cache import ModelStore, load_state_dict
from bench.fsutil import canonical_hash
from bench.data import DataBundle
from bench.errors import CacheError
from bench.examples import save_examples
from bench.metrics import CLEAN
from bench.models import build_model
from bench.records import NORM_TOL, UNBOUNDED
from bench.spec import AttackSpec, ModelSpec, view_name
from bench.training import fit, predict_logits, soft_labels

log = logging.getLogger(__name__)

# Bump when training or attack code changes what a cached artifact would contain.
TRAIN_VERSION = 1
ATTACK_VERSION = 1


@dataclass
class TrainedModel:
    """A model ready to evaluate, with its cache key and where it came from."""

    spec: ModelSpec
    module: nn.Module
    key: str  # the recipe: finds the model in the store
    weights: str  # the weights themselves: keys every result computed from the model
    origin: str  # "trained", "cache" or "checkpoint"
    seconds: float


def model_key(spec: ModelSpec, data: DataBundle, seed: int, teacher_weights: str | None, checkpoint_sha: str | None) -> str:
    """Hash of the recipe that determines a model (a Merkle chain through its teacher's weights)."""
    return canonical_hash({
        "arch": spec.arch, "kind": spec.kind, "train": spec.train.model_dump(mode="json"),
        "data": data.train_fingerprint, "seed": seed, "teacher": teacher_weights,
        "checkpoint": checkpoint_sha, "version": TRAIN_VERSION,
    })


def weights_digest(state: dict[str, Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes.

    Retraining the same recipe on another thread count or torch version gives other
    weights, so results are keyed by this, never by the recipe alone.
    """
    import hashlib

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def obtain_model(
    spec: ModelSpec, data: DataBundle, seed: int, store: ModelStore, device: torch.device,
    teacher: TrainedModel | None, quiet: bool = True,
) -> TrainedModel:
    """Load the model from its checkpoint or the store, or train and store it."""
    start = time.perf_counter()
    torch.manual_seed(seed)  # the initial weights, if this model gets trained below
    module = build_model(spec.arch, data.shape, data.n_classes)
    if spec.checkpoint is not None:
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise CacheError(f"models[{spec.id}].checkpoint: no such file {path}")
        state = load_state_dict(path)
        _load_into(module, state, str(path))
        digest = weights_digest(state)
        key = model_key(spec, data, seed, None, digest)
        return TrainedModel(spec, module.to(device).eval(), key, digest, "checkpoint", time.perf_counter() - start)
    key = model_key(spec, data, seed, teacher.weights if teacher else None, None)
    with store.lock(key):
        found = store.load(key)
        if found is not None:
            _load_into(module, found[0], f"cache {key[:12]}")
            log.info("model %s: loaded from the store (%s)", spec.id, key[:12])
            return TrainedModel(spec, module.to(device).eval(), key, weights_digest(found[0]), "cache", time.perf_counter() - start)
        targets = None
        if spec.kind == "student":
            assert teacher is not None
            targets = soft_labels(teacher.module, data.x_train, spec.train.temperature)
        module.to(device)
        fit(module, data.x_train, data.y_train, spec.train, seed, soft_targets=targets, desc=f"train {spec.id}", quiet=quiet)
        seconds = time.perf_counter() - start
        acc = float((predict_logits(module, data.x_test).argmax(1).cpu() == data.y_test).float().mean())
        store.save(key, module.state_dict(), {"id": spec.id, "kind": spec.kind, "arch": spec.arch, "train": spec.train.model_dump(mode="json"), "seconds": round(seconds, 2), "test_accuracy": acc, "data": data.train_fingerprint})
        log.info("model %s: trained in %.1fs, clean accuracy %.4f", spec.id, seconds, acc)
    return TrainedModel(spec, module.eval(), key, weights_digest(module.state_dict()), "trained", seconds)


def _load_into(module: nn.Module, state: dict[str, Tensor], where: str) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise CacheError(f"{where}: weights do not fit the architecture ({str(exc).splitlines()[0][:160]})") from None


def sample_hashes(x: Tensor) -> list[str]:
    """A short digest per input, so two runs can be shown to have used the same samples."""
    import hashlib

    arr = x.detach().cpu().numpy()
    return [hashlib.sha256(a.tobytes()).hexdigest()[:16] for a in arr]


def clean_records(model: TrainedModel, data: DataBundle, hashes: list[str]) -> pd.DataFrame:
    """The clean shard: the prediction on every sample of the test split (``hashes`` are per test sample)."""
    logits = predict_logits(model.module, data.x_test).cpu()
    if not torch.isfinite(logits).all():
        raise AttackError(f"model {model.spec.id} returns NaN or inf logits on clean inputs")
    pred = logits.argmax(1).numpy()
    label = data.y_test.numpy()
    n = len(label)
    return pd.DataFrame({
        "model": model.spec.id, "attack": CLEAN, "use": "", "view": "logits", "tag": "", "source": "",
        "kind": "", "norm": "", "eps": 0.0, "sample": np.arange(n), "sample_hash": hashes, "label": label,
        "clean_pred": pred, "adv_pred": pred, "success": False, "robust": pred == label,
        "l0": np.zeros(n), "l2": np.zeros(n), "linf": np.zeros(n), "projected": False, "seconds": 0.0,
    })


def attack_key(spec: AttackSpec, model: TrainedModel, source: TrainedModel | None, data: DataBundle, seed: int) -> str:
    """Hash of everything that determines an attack cell's records."""
    return canonical_hash({
        "attack": spec.model_dump(mode="json", exclude={"id", "models"}), "model": model.weights,
        "source": source.weights if source else None, "data": data.eval_fingerprint, "seed": seed, "version": ATTACK_VERSION,
        "code": ATTACKS.get(spec.use).version,
    })


def attack_seed(seed: int, attack_id: str) -> int:
    """A per-attack seed, so adding an attack does not change the others' randomness."""
    return int(canonical_hash([seed, attack_id])[:8], 16)


def run_attack_cell(
    spec: AttackSpec, model: TrainedModel, source: TrainedModel | None, target: Target, data: DataBundle,
    clean_pred: np.ndarray, hashes: list[str], seed: int, quiet: bool = True, examples: Path | None = None,
) -> pd.DataFrame:
    """Run one attack on one model; judge success on the deployed model; return records.

    ``clean_pred`` and ``hashes`` are per evaluation sample (aligned with ``data.x_eval``).
    With ``examples``, the first few inputs at the largest budget are saved there for the report.
    """
    cls = ATTACKS.get(spec.use)
    attack = cls(spec.params, spec.norm or cls.norms[0], attack_seed(seed, spec.id), spec.batch_size or cls.default_batch_size)
    n = min(spec.n_samples or len(data.y_eval), len(data.y_eval))
    x, y = data.x_eval[:n].to(target.device), data.y_eval[:n].to(target.device)
    label, clean = data.y_eval[:n].numpy(), clean_pred[:n]
    base = {
        "model": model.spec.id, "attack": spec.id, "use": spec.use, "view": view_name(spec.view), "tag": spec.tag,
        "source": source.spec.id if source else "", "kind": cls.kind, "norm": attack.norm,
        "sample": data.eval_index[:n], "sample_hash": hashes[:n], "label": label, "clean_pred": clean,
    }
    frames = []
    budgets: list[float | None] = list(spec.eps) if cls.kind == "fixed_eps" else [None]
    for eps in budgets:
        desc = f"{spec.id} on {model.spec.id}" + (f" eps={eps:g}" if eps is not None else "")
        out = attack(target, x, y, eps, desc=desc, quiet=quiet)
        adv_logits = predict_logits(model.module, out.x_adv).cpu()
        if not torch.isfinite(adv_logits).all():
            raise AttackError(f"model {model.spec.id} returns NaN or inf logits on adversarial inputs")
        adv = adv_logits.argmax(1).numpy()
        norms = {k: v.cpu().numpy() for k, v in lp_norms(out.x_adv - x).items()}
        moved = out.projected.cpu().numpy()
        per = out.seconds / max(n, 1)
        if examples is not None and eps == budgets[-1]:
            save_examples(examples, x, out.x_adv, label, clean, adv, eps)
        if eps is not None:
            frames.append(_rows(base, eps, adv, norms, moved, per))
            continue
        for e in [*spec.eps, UNBOUNDED]:
            within = norms[attack.norm] <= e + NORM_TOL
            adv_e = np.where(within, adv, clean)
            norms_e = {k: np.where(within, v, 0.0) for k, v in norms.items()}
            frames.append(_rows(base, e, adv_e, norms_e, moved, per))
    return pd.concat(frames, ignore_index=True)


def _rows(base: dict[str, Any], eps: float, adv: np.ndarray, norms: dict[str, np.ndarray], moved: np.ndarray, per: float) -> pd.DataFrame:
    label, clean = base["label"], base["clean_pred"]
    ok = clean == label
    return pd.DataFrame(base | {
        "eps": float(eps), "adv_pred": adv, "success": ok & (adv != label), "robust": ok & (adv == label),
        "l0": norms["l0"], "l2": norms["l2"], "linf": norms["linf"], "projected": moved, "seconds": per,
    })


def make_target(module: nn.Module, view: Any, data: DataBundle, device: torch.device) -> Target:
    """A model seen through a view, for the attacks to share."""
    return Target(view=make_view(module, view), n_classes=data.n_classes, input_shape=data.shape, device=device)

