"""Sweeps: a suite's ``temperatures`` and ``seeds`` expand into plain models.

* ``temperatures: [1, 10, 100]`` copies every teacher and student once per T, with ids
  ``<id>-t<T>`` (``distilled-t10``) and ``train.temperature = T``; a student follows its
  teacher at the same T. Baselines are not swept.
* ``seeds: [0, 1, 2]`` copies every model once per seed (``<id>-s<seed>``), with its own
  ``seed`` for training and attacks; students follow the teacher of the same seed.
* An attack's ``models`` and ``source`` name models as written in the YAML; they expand to
  every copy (``source`` to the copy with the same seed).

The unexpanded suite is validated first, so errors name the YAML paths the user wrote.
"""

from __future__ import annotations

from bench.errors import SpecError
from bench.spec.schema import AttackSpec, ModelSpec, SuiteSpec, seed_id, split_seed, temperature_id


def expand(spec: SuiteSpec) -> SuiteSpec:
    """The suite with its sweeps expanded into models (``temperatures`` and ``seeds`` cleared)."""
    if not spec.temperatures and not spec.seeds:
        return spec
    copies: dict[str, list[str]] = {m.id: [m.id] for m in spec.models}
    models = list(spec.models)
    if spec.temperatures:
        models, copies = _sweep_temperatures(models, list(spec.temperatures))
    if spec.seeds:
        models, copies = _sweep_seeds(models, copies, list(spec.seeds))
    attacks = [_expand_attack(a, copies, spec) for a in spec.attacks]
    seen: dict[str, str] = {}
    for m in models:
        if m.id in seen:
            raise SpecError(f"models: the sweep makes the id '{m.id}' twice; rename the model it collides with")
        seen[m.id] = m.id
    return spec.model_copy(update={"models": models, "attacks": attacks, "temperatures": None, "seeds": None})


def _sweep_temperatures(models: list[ModelSpec], temps: list[float]) -> tuple[list[ModelSpec], dict[str, list[str]]]:
    swept = {m.id for m in models if m.kind in ("teacher", "student")}
    out: list[ModelSpec] = []
    copies: dict[str, list[str]] = {}
    for m in models:
        if m.id not in swept:
            out.append(m)
            copies[m.id] = [m.id]
            continue
        copies[m.id] = []
        for t in temps:
            new_id = temperature_id(m.id, t)
            teacher = temperature_id(m.teacher, t) if m.teacher in swept else m.teacher
            out.append(
                m.model_copy(update={"id": new_id, "teacher": teacher, "train": m.train.model_copy(update={"temperature": float(t)})})
            )
            copies[m.id].append(new_id)
    return out, copies


def _sweep_seeds(models: list[ModelSpec], copies: dict[str, list[str]], seeds: list[int]) -> tuple[list[ModelSpec], dict[str, list[str]]]:
    out: list[ModelSpec] = []
    for s in seeds:
        for m in models:
            teacher = seed_id(m.teacher, s) if m.teacher else None
            out.append(m.model_copy(update={"id": seed_id(m.id, s), "teacher": teacher, "seed": s}))
    new_copies = {orig: [seed_id(c, s) for s in seeds for c in cs] for orig, cs in copies.items()}
    return out, new_copies


def _expand_attack(a: AttackSpec, copies: dict[str, list[str]], spec: SuiteSpec) -> AttackSpec:
    if a.source is not None and spec.temperatures and spec.model(a.source).kind != "baseline":
        raise SpecError(f"attacks: '{a.id}' has source '{a.source}', which the temperature sweep copies; craft on a baseline instead")
    if a.models is None:
        return a
    # A source stays as written: source_for() picks its copy with the target's seed.
    return a.model_copy(update={"models": [c for mid in a.models for c in copies[mid]]})


def source_for(spec: SuiteSpec, source: str, target_id: str) -> str:
    """The copy of ``source`` to craft on for ``target_id``: the one with the same seed suffix."""
    ids = {m.id for m in spec.models}
    if source in ids:
        return source
    _, seed = split_seed(target_id)
    candidate = seed_id(source, seed) if seed is not None else None
    if candidate in ids:
        return candidate
    raise SpecError(f"attacks: no copy of source '{source}' for model '{target_id}'")
