"""YAML -> overrides -> validation -> cross-checks against the registries -> sweep expansion.

Every error names its YAML path (``attacks[2].params.stepz: unknown field;
did you mean 'steps'?``). Structure is checked by pydantic (``bench.spec.schema``);
cross-references (teachers, registry keys, attack params, budgets against the
input scale, sizes against the dataset, checkpoint files) by ``_cross_check``, so
their errors carry paths too. Every error found is reported at once (up to
``MAX_ERRORS``), one per line. The registries are torch-free catalogs, so
validating a suite imports no torch, ART or torchattacks.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.attacks import ATTACKS
from bench.catalogue.datasets import DATASETS, open_dataset
from bench.errors import SpecError
from bench.registry import Registry, UnknownKeyError, did_you_mean, import_plugins
from bench.spec.schema import DEFENCE_STEPS, SAFE_ID, AttackSpec, ModelSpec, SuiteSpec, ViewSpec
from bench.spec.sweep import expand

MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# An external model is a program file: torch.export's .pt2 or a TorchScript archive.
EXTERNAL_SUFFIXES = (".pt2", ".pt")


def format_loc(loc: tuple[Any, ...]) -> str:
    """``('attacks', 2, 'params')`` -> ``attacks[2].params``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _format_error(err: dict[str, Any], prefix: tuple[Any, ...] = ()) -> str:
    loc = prefix + tuple(p for p in err["loc"] if not _is_union_tag(p))
    if err["type"] == "unknown_field":
        ctx = err.get("ctx", {})
        return f"{format_loc(loc + (ctx['field'],))}: unknown field{ctx.get('hint', '')}"
    if err["type"] == "missing":
        return f"{format_loc(loc)}: required field is missing"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found") and len(loc) > 1 and loc[-2] == "defence":
        return _defence_name_error(err, loc)
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    return f"{format_loc(loc)}: {msg}"


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member's name (a defence step's: its name) into loc; it means nothing in YAML.
    return isinstance(part, str) and (
        part.startswith(("literal[", "function-after[")) or part in {"ViewSpec", "str", "int"} or part in DEFENCE_STEPS
    )


def _defence_name_error(err: dict[str, Any], loc: tuple[Any, ...]) -> str:
    # A defence step is chosen by its name: say which names exist, and which one was probably meant.
    known = list(DEFENCE_STEPS)
    if err["type"] == "union_tag_not_found":
        return f"{format_loc(loc)}: a defence step needs a name, one of {', '.join(known)}"
    tag = str(err.get("ctx", {}).get("tag", ""))
    return f"{format_loc(loc + ('name',))}: unknown defence '{tag}'{did_you_mean(tag, known)} (known: {', '.join(known)})"


MAX_ERRORS = 20


def _all_errors(errors: list[str]) -> str:
    # One line per error, so a user fixes them in one round instead of one run per typo.
    unique = list(dict.fromkeys(errors))
    shown = unique[:MAX_ERRORS]
    if len(unique) > MAX_ERRORS:
        shown.append(f"... and {len(unique) - MAX_ERRORS} more errors")
    return "\n".join(shown)


def parse_suite(data: Any, base: Path | None = None) -> SuiteSpec:
    """Validate a plain mapping into a ``SuiteSpec``, raising ``SpecError`` with YAML paths.

    With ``base`` (the spec file's folder), checkpoint files are also checked to exist.
    """
    if not isinstance(data, dict):
        raise SpecError(f"the spec must be a YAML mapping, got {type(data).__name__}")
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_all_errors([_format_error(e) for e in _drop_other_branches(exc.errors())])) from None
    bad = [f"plugins[{i}]: '{name}' is not a module name" for i, name in enumerate(spec.plugins) if not MODULE_NAME.match(name)]
    if bad:
        raise SpecError(_all_errors(bad))
    # The one place a suite runs code: modules it names explicitly, before the registries are consulted.
    import_plugins(spec.plugins)
    return _cross_check(spec, base)


def _drop_other_branches(errors: list[Any]) -> list[Any]:
    # A union (view: 'logits' | {divide_logits_by: T}) reports a failure for each member;
    # keep only the member the user evidently meant: a mapping meant the model, a string the literal.
    def other_branch(e: Any) -> bool:
        branch = next((str(p) for p in e["loc"] if _is_union_tag(p)), None)
        if branch is None:
            return False
        if branch.startswith("literal["):
            return isinstance(e["input"], dict)
        return e["type"] == "model_type"

    kept = [e for e in errors if not other_branch(e)]
    return kept or errors


def _cross_check(spec: SuiteSpec, base: Path | None = None) -> SuiteSpec:
    errors: list[str] = []
    if not SAFE_ID.match(spec.name):
        errors.append(f"name: '{spec.name}' is not a safe folder name (letters, digits, '_' and '-', no '__')")
    shape: tuple[int, int, int] | None = None
    if spec.dataset.name not in DATASETS:
        errors.append(f"dataset.name: {UnknownKeyError('dataset', spec.dataset.name, DATASETS.keys())}")
    else:
        ds = DATASETS.get(spec.dataset.name)
        if ds.needs_path and spec.dataset.path is None:
            errors.append(f"dataset.path: the {spec.dataset.name} dataset reads one file; name it, e.g. path: data.npz")
        elif not ds.needs_path and spec.dataset.path is not None:
            errors.append(f"dataset.path: the {spec.dataset.name} dataset takes no path (root: says where its files are)")
        if not ds.needs_path:
            # A dataset read from a file is checked once it is read; the registry knows the others' shape and sizes.
            shape = ds.shape
            errors += _check_sizes(spec, ds.n_train, ds.n_test)
    ids: dict[str, str] = {}
    for i, m in enumerate(spec.models):
        where = f"models[{i}]"
        errors += _check_id(m.id, f"{where}.id", ids)
        errors += _check_external(m, where) if m.kind == "external" else _check_arch(m, where, spec)
        if m.kind == "student" and m.teacher is None and m.checkpoint is None:
            errors.append(f"{where}.teacher: a student needs a teacher")
        if m.kind != "student" and m.teacher is not None:
            errors.append(f"{where}.teacher: only a student has a teacher (kind is '{m.kind}')")
        if m.train.adversarial is not None:
            if m.kind != "baseline":
                errors.append(f"{where}.train.adversarial: only a baseline is adversarially trained (kind is '{m.kind}')")
            if m.checkpoint is not None:
                errors.append(f"{where}.train.adversarial: a model loaded from a checkpoint is not trained; drop one of them")
            errors += _check_scale(f"{where}.train.adversarial", m.train.adversarial.norm, [m.train.adversarial.eps], shape)
        if m.checkpoint is not None and base is not None and not (base / Path(m.checkpoint).expanduser()).is_file():
            errors.append(f"{where}.checkpoint: no such file {(base / Path(m.checkpoint).expanduser()).resolve()}")
    model_ids = [m.id for m in spec.models]
    for i, m in enumerate(spec.models):
        if m.teacher is not None and m.teacher not in model_ids:
            errors.append(f"models[{i}].teacher: no model with id '{m.teacher}'{did_you_mean(m.teacher, model_ids)}")
    errors += _check_teacher_cycles(spec)
    attack_ids: dict[str, str] = {}
    resolved: list[AttackSpec] = []
    for i, a in enumerate(spec.attacks):
        attack_errors, a = _check_attack(i, a, model_ids, attack_ids, ATTACKS, shape)
        errors += attack_errors
        resolved.append(a)
    if spec.temperatures is not None and any(t <= 0 for t in spec.temperatures):
        errors.append("temperatures: values must be positive")
    if spec.seeds is not None and (any(s < 0 for s in spec.seeds) or len(set(spec.seeds)) != len(spec.seeds)):
        errors.append("seeds: values must be distinct and non-negative")
    if errors:
        raise SpecError(_all_errors(errors))
    return expand(spec.model_copy(update={"attacks": resolved}))


def _check_sizes(spec: SuiteSpec, n_train: int, n_test: int) -> list[str]:
    # Known from the registry's card, so a size the data cannot give fails before any download or training.
    d, errors = spec.dataset, []
    if d.eval_size > n_test:
        errors.append(f"dataset.eval_size: {d.eval_size} is more than the {n_test} test samples of {d.name}")
    if d.train_size is not None and d.train_size > n_train:
        errors.append(f"dataset.train_size: {d.train_size} is more than the {n_train} training samples of {d.name}")
    return errors


def _check_scale(where: str, norm: str, eps: list[float], shape: tuple[int, int, int] | None) -> list[str]:
    """Budgets beyond what inputs in [0, 1] allow: almost always a budget in 0-255 pixel units."""
    if shape is None:
        return []
    d = shape[0] * shape[1] * shape[2]
    limit, what = {"linf": (1.0, "inputs are in [0, 1]"), "l2": (math.sqrt(d), f"no two inputs in [0, 1]^{d} are farther apart")}.get(
        norm, (float(d), f"inputs have {d} features")
    )
    too_big = [e for e in eps if math.isfinite(e) and e > limit + 1e-9]
    if not too_big:
        return []
    e = too_big[0]
    hint = f"; budgets are on the [0, 1] scale: write {e:g}/255 for {e:g} grey levels" if norm == "linf" else ""
    return [f"{where}.eps: {e:g} is more than {limit:.4g} ({norm}), but {what}{hint}"]


def _check_arch(m: ModelSpec, where: str, spec: SuiteSpec) -> list[str]:
    if m.arch is None:
        return [f"{where}.arch: required field is missing (only an external model has none)"]
    if m.arch not in ARCHITECTURES:
        return [f"{where}.arch: {UnknownKeyError('architecture', m.arch, ARCHITECTURES.keys())}"]
    errors = []
    if m.checkpoint is not None and m.checkpoint.endswith(".pt2"):
        errors.append(f"{where}.checkpoint: a .pt2 file is a whole program (torch.export); load it as kind: external, without arch")
    if spec.dataset.name in DATASETS and not DATASETS.get(spec.dataset.name).needs_path:
        # A dataset read from a file has its shape checked once the path is resolved (load_suite).
        errors += _check_fit(m.arch, DATASETS.get(spec.dataset.name).shape, spec.dataset.name, where)
    return errors


def _check_fit(arch: str, shape: tuple[int, int, int], dataset: str, where: str) -> list[str]:
    if ARCHITECTURES.get(arch).supports(shape):
        return []
    return [f"{where}.arch: '{arch}' does not fit {'x'.join(map(str, shape))} inputs of {dataset}"]


def _check_external(m: ModelSpec, where: str) -> list[str]:
    errors = []
    if m.arch is not None:
        errors.append(f"{where}.arch: an external model brings its own network; remove arch")
    if m.checkpoint is None:
        errors.append(f"{where}.checkpoint: an external model needs its program file (.pt2 from torch.export, .pt from TorchScript)")
    elif not m.checkpoint.endswith(EXTERNAL_SUFFIXES):
        errors.append(f"{where}.checkpoint: '{m.checkpoint}' is neither .pt2 (torch.export) nor .pt (TorchScript)")
    if "train" in m.model_fields_set:
        errors.append(f"{where}.train: an external model is evaluated, never trained; remove train")
    return errors


def _check_id(value: str, where: str, seen: dict[str, str]) -> list[str]:
    errors = []
    if not SAFE_ID.match(value):
        errors.append(f"{where}: '{value}' is not a safe id (letters, digits, '_' and '-', starting with a letter or digit, no '__')")
    if value in seen:
        errors.append(f"{where}: duplicate id '{value}' (also {seen[value]})")
    seen[value] = where
    return errors


def _check_teacher_cycles(spec: SuiteSpec) -> list[str]:
    teacher = {m.id: m.teacher for m in spec.models}
    for i, m in enumerate(spec.models):
        seen, cur = [m.id], m.teacher
        while cur is not None and cur in teacher:
            if cur in seen:
                chain = " -> ".join(seen + [cur])
                return [f"models[{i}].teacher: teacher cycle {chain}"]
            seen.append(cur)
            cur = teacher[cur]
    return []


def _check_attack(
    i: int, a: AttackSpec, model_ids: list[str], seen: dict[str, str], registry: Registry[Any], shape: tuple[int, int, int] | None = None
) -> tuple[list[str], AttackSpec]:
    where = f"attacks[{i}]"
    errors = _check_id(a.id, f"{where}.id", seen)
    if a.id == "clean":
        errors.append(f"{where}.id: 'clean' is reserved for clean-accuracy records")
    for name, ref in [("source", a.source)] + [("models", m) for m in a.models or []]:
        if ref is not None and ref not in model_ids:
            errors.append(f"{where}.{name}: no model with id '{ref}'{did_you_mean(ref, model_ids)}")
    if any(e < 0 or math.isnan(e) for e in a.eps):
        errors.append(f"{where}.eps: values must be non-negative")
    elif any(math.isinf(e) for e in a.eps):
        errors.append(f"{where}.eps: values must be finite; minimum-norm attacks always report an unbounded row")
    elif list(a.eps) != sorted(a.eps):
        errors.append(f"{where}.eps: values must be sorted ascending")
    elif len(set(a.eps)) != len(a.eps):
        errors.append(f"{where}.eps: values must be strictly increasing (no duplicates)")
    try:
        cls = registry.get(a.use)
    except UnknownKeyError as exc:
        return errors + [f"{where}.use: {exc}"], a
    # An attack backed by an optional package names it and the extra that installs it, e.g. ("pyautoattack", "bench[autoattack]").
    requires = getattr(cls, "requires", None)
    if requires and importlib.util.find_spec(requires[0]) is None:
        errors.append(f"{where}.use: '{a.use}' needs the package {requires[0]}, which is not installed: pip install '{requires[1]}'")
    norm = cls.resolved_norm(a)
    if norm not in cls.norms:
        errors.append(f"{where}.norm: '{a.use}' supports {', '.join(cls.norms)}, not '{norm}'")
    if cls.kind == "fixed_eps" and not a.eps:
        errors.append(f"{where}.eps: '{a.use}' is a fixed-budget attack and needs at least one eps")
    errors += _check_scale(where, norm, a.eps, shape)
    try:
        params = cls.Params.model_validate(a.params)
    except ValidationError as exc:
        errors += [_format_error(e, (*_split(where), "params")) for e in exc.errors()]
        return errors, a
    update = {
        "params": params.model_dump(mode="json"),
        "norm": norm,
        "tag": a.tag or ("transfer" if a.source else "adaptive" if isinstance(a.view, ViewSpec) and a.view.adaptive else cls.default_tag),
        "batch_size": cls.resolved_batch_size(a),
    }
    return errors, a.model_copy(update=update)


def _split(where: str) -> tuple[Any, ...]:
    name, _, idx = where.partition("[")
    return (name, int(idx.rstrip("]")))


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides (values parsed as YAML scalars) to raw spec data."""
    data = json.loads(json.dumps(data))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SpecError(f"--set {item}: expected dotted.key=value")
        value = yaml.safe_load(raw) if raw else ""
        node: Any = data
        parts = key.split(".")
        for j, part in enumerate(parts):
            last = j == len(parts) - 1
            if isinstance(node, list):
                idx = _list_index(node, part, key)
                if last:
                    node[idx] = value
                else:
                    node = node[idx]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise SpecError(f"--set {key}: '{'.'.join(parts[:j])}' is not a mapping or list")
    return data


def _list_index(node: list[Any], part: str, key: str) -> int:
    # Lists of models/attacks are addressed by position or by id: models.distilled.train.epochs=1.
    if part.isdigit() and int(part) < len(node):
        return int(part)
    for idx, item in enumerate(node):
        if isinstance(item, dict) and item.get("id") == part:
            return idx
    raise SpecError(f"--set {key}: no list item '{part}'")


def read_yaml(path: Path) -> Any:
    """Load a YAML file with the safe loader, as a ``SpecError`` on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"{path}: not valid YAML{where}") from None
    if data is None:
        raise SpecError(f"{path}: the file is empty")
    return data


def load_suite(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> SuiteSpec:
    """Read, override and validate a suite file."""
    data = read_yaml(Path(path))
    if overrides:
        if not isinstance(data, dict):
            raise SpecError(f"{path}: the spec must be a YAML mapping")
        data = apply_overrides(data, list(overrides))
    base = Path(path).resolve().parent
    return _resolve_paths(parse_suite(data, base), base)


def _resolve_paths(spec: SuiteSpec, base: Path) -> SuiteSpec:
    # Relative paths in a spec mean "relative to the spec file", never to the working directory.
    def fix(p: str | None) -> str | None:
        return None if p is None else str((base / Path(p).expanduser()).resolve())

    models = [m.model_copy(update={"checkpoint": fix(m.checkpoint)}) if m.checkpoint else m for m in spec.models]
    dataset = spec.dataset.model_copy(update={"root": fix(spec.dataset.root), "path": fix(spec.dataset.path)})
    spec = spec.model_copy(update={"models": models, "dataset": dataset})
    if dataset.path is not None:
        _check_data_file(spec)
    return spec


def _check_data_file(spec: SuiteSpec) -> None:
    # A dataset read from a file: the file must exist, and the architectures must fit its images.
    if not Path(spec.dataset.path or "").is_file():
        raise SpecError(f"dataset.path: no such file {spec.dataset.path}")
    shape = open_dataset(spec.dataset.name, spec.dataset.path).shape
    errors = []
    for m in spec.models:
        if m.arch is not None and m.arch in ARCHITECTURES:
            errors += _check_fit(m.arch, shape, spec.dataset.name, f"models[{m.id}]")
    if errors:
        raise SpecError(_all_errors(errors))
