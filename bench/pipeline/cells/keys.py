"""Every cache key bench computes: of a trained model, a clean shard, diagnostics, an attack shard, a cost file, a Dask task.

A cached model or records shard is keyed by everything that determines it: the
slice of the spec it needs, the data's fingerprints, the weights digest of every
model it uses, its seed, and two parts that are not in the suite file:

* ``Runtime``: the versions of torch, torchvision, ART and torchattacks, the
  dtype and the device type the cell runs with. Another CUDA build, a torch
  upgrade or a switch from CPU to GPU gives other numbers, so it gives other keys.
* code digests (``digest``): the source of exactly the code that computes the
  result, named below for each kind of cell (``train_code``, ``evaluate_code``,
  ``attack_code``, ``cost_code``): an architecture's class (and the bench classes it
  derives from), the training loops and the train cell; an attack's modules (its
  class and every base), the contract's tensor helpers, views and losses, and the
  attack cell. Module granularity errs on the side of recomputing: editing one
  adapter in a backend module recomputes every attack of that module.

The cell modules are digested by name (``_cell_module``) rather than imported here:
they import this module for the keys, and a digest needs only their source.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import threading
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bench.fsutil import canonical_hash

if TYPE_CHECKING:
    from torch import Tensor

    from bench.spec.schema import AttackSpec, ModelSpec

KEY_PACKAGES = ("torch", "torchvision", "adversarial-robustness-toolbox", "torchattacks", "pyautoattack")
# Every cell runs on these; an attack cell also on the backend it imports (ART, torchattacks, or neither).
BASE_PACKAGES = ("torch", "torchvision")
BACKENDS = {"art": "adversarial-robustness-toolbox", "torchattacks": "torchattacks", "pyautoattack": "pyautoattack"}
DTYPE = "float32"


def package_version(name: str) -> str:
    """The installed version of ``name``, or ``not installed``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Runtime:
    """The libraries, dtype and device type a cell is computed with; part of every key."""

    packages: tuple[tuple[str, str], ...]
    device_type: str
    dtype: str = DTYPE

    @classmethod
    def here(cls, device_type: str) -> Runtime:
        """This process's runtime on a device of type ``cpu`` or ``cuda``."""
        return cls(tuple((name, package_version(name)) for name in KEY_PACKAGES), device_type)

    def subset(self, names: tuple[str, ...] | list[str]) -> Runtime:
        """The same runtime restricted to the packages ``names`` (a cell is keyed by the ones it uses)."""
        return Runtime(tuple((n, v) for n, v in self.packages if n in names), self.device_type, self.dtype)

    def describe(self) -> str:
        """One line for error messages: ``torch 2.14.1, ..., cpu, float32``."""
        return ", ".join([*(f"{n} {v}" for n, v in self.packages), self.device_type, self.dtype])


_SOURCE_LOCK = threading.Lock()
AST_RETRIES = 3


def _getsource(obj: Any) -> str:
    # inspect.getsource parses a class's module with ast. CPython 3.11 keeps the AST constructor's recursion depth in
    # state that threads share and that a failed parse leaves off (python/cpython#106905), so a parse in a Dask worker
    # can raise a spurious "AST constructor recursion depth mismatch" SystemError: one parse at a time, and again.
    with _SOURCE_LOCK:
        for _ in range(AST_RETRIES - 1):
            try:
                return inspect.getsource(obj)
            except SystemError as exc:
                if "recursion depth mismatch" not in str(exc):
                    raise
        return inspect.getsource(obj)


def _source(obj: Any) -> str:
    try:
        return _getsource(obj)
    except (OSError, TypeError):
        # Compiled or interactively defined code has no source: key it by its name, and say so.
        return f"<no source: {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}>"


def digest(*objects: Any) -> str:
    """sha256 over the source of modules, classes or functions, in order."""
    h = hashlib.sha256()
    for obj in objects:
        h.update(_source(obj).encode())
        h.update(b"\0")
    return h.hexdigest()


def _bench_bases(cls: type) -> list[type]:
    # A class and the classes it derives from that are not torch's or Python's own.
    return [c for c in cls.__mro__ if not c.__module__.startswith(("torch", "builtins", "abc", "typing"))]


def architecture_classes(arch: str) -> list[type]:
    """An architecture's class and its bench base classes (what its code digest covers)."""
    from bench.catalogue.architectures import ARCHITECTURES

    return _bench_bases(ARCHITECTURES.get(arch).load_class())


def attack_modules(use: str) -> list[ModuleType]:
    """The modules of an attack's class and of every base class (what its code digest covers)."""
    from bench.catalogue.attacks import ATTACKS

    modules: list[ModuleType] = []
    for cls in _bench_bases(ATTACKS.get(use)):
        module = inspect.getmodule(cls)
        if module is not None and module not in modules:
            modules.append(module)
    return modules


def attack_packages(use: str) -> tuple[str, ...]:
    """The packages an attack cell's result depends on: torch and torchvision, plus the backends its modules import."""
    used: set[str] = set()
    for module in attack_modules(use):
        for node in ast.walk(ast.parse(_source(module))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            used |= {BACKENDS[n.split(".")[0]] for n in names if n.split(".")[0] in BACKENDS}
    return BASE_PACKAGES + tuple(p for p in KEY_PACKAGES if p in used)


def _cell_module(name: str) -> ModuleType:
    # A cell module by name (``train``, ``evaluate``, ``attack``, ``cost``): each imports this module for its keys.
    return importlib.import_module(f"bench.pipeline.cells.{name}")


@cache
def architecture_code(arch: str | None) -> str:
    """Digest of an architecture's class and its bench bases: part of every result computed with it.

    An external model (``arch`` None) brings its network in its file, which its weights digest covers;
    what bench adds is the loader and its wrapper.
    """
    from bench.pipeline.models import external

    return digest(external) if arch is None else digest(*architecture_classes(arch))


# What a defence's steps compute with besides torch: ART's preprocessors, and the image library of the JPEG round trip.
DEFENCE_PACKAGES = ("adversarial-robustness-toolbox", "pillow")


def defended_code(network_code: str, defence: str, eval_draws: int, steps_code: str) -> str:
    """Digest of a defended model's code: its network's, its steps' (``defences_code``), the steps' parameters, and how
    many draws judge it."""
    return canonical_hash([network_code, steps_code, defence, eval_draws])


@cache
def defences_code() -> str:
    """Digest of the defence steps' module and of the packages they compute with (ART, Pillow), in this process."""
    from bench.pipeline.models import defences

    return canonical_hash([digest(defences), [package_version(p) for p in DEFENCE_PACKAGES]])


@cache
def train_code(arch: str | None, adversarial_training: bool = False) -> str:
    """Digest of the code that determines a trained model: its architecture, the training loop, its loss and the train cell.

    An adversarially trained model also depends on ``bench.pipeline.training.adversarial`` (its loss and
    training attack). A plain one does not: ``training.fit`` never reaches that module for it, so
    editing adversarial training retrains only adversarially trained models.
    For an external model (``arch`` None): the loader and the train cell that loads and checks it.
    """
    from bench.pipeline import training
    from bench.pipeline.training import adversarial, loop, plain

    if arch is None:
        return digest(architecture_code(None), _cell_module("train"))
    code = [architecture_code(arch), training, loop, plain, _cell_module("train")]
    return digest(*code, adversarial) if adversarial_training else digest(*code)


@cache
def evaluate_code() -> str:
    """Digest of the code behind clean predictions (``judge``'s majority vote) and diagnostics."""
    from bench.pipeline.measure import diagnostics
    from bench.pipeline.models.defences import judge
    from bench.pipeline.training.plain import predict_logits

    return digest(diagnostics, predict_logits, judge, _cell_module("evaluate"))


@cache
def attack_code(use: str) -> str:
    """Digest of the code behind an attack cell: the attack's modules, the contract's helpers and the cell itself."""
    from bench.attacks import indicators, losses, ops, views
    from bench.pipeline.models.defences import judge
    from bench.pipeline.training.plain import predict_logits

    return digest(*attack_modules(use), ops, views, losses, indicators, _cell_module("attack"), predict_logits, judge)


@cache
def cost_code() -> str:
    """Digest of the code that measures a model's cost."""
    from bench.pipeline.measure import costs

    return digest(costs, _cell_module("cost"))


def training_code_key(model: ModelSpec) -> str:
    """How a Dask run names the code that trains ``model`` (its architecture, and whether it is adversarial training)."""
    return f"train:{model.arch}" + (":adversarial" if model.train.adversarial is not None else "")


def weights_digest(state: dict[str, Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes.

    Retraining the same recipe on another thread count or torch version gives other
    weights, so results are keyed by this, never by the recipe alone.
    """
    import torch

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def model_key(
    spec: ModelSpec,
    train_fingerprint: str,
    seed: int,
    teacher_weights: str | None,
    checkpoint_sha: str | None,
    runtime: Runtime,
    code: str,
) -> str:
    """Hash of the recipe that determines a model: spec, data, seed, teacher's weights, runtime and code."""
    return canonical_hash(
        {
            "arch": spec.arch,
            "kind": spec.kind,
            "train": spec.train.canonical(),
            "data": train_fingerprint,
            "seed": seed,
            "teacher": teacher_weights,
            "checkpoint": checkpoint_sha,
            "runtime": asdict(runtime),
            "code": code,
        }
    )


def model_output_key(weights: str, model_code: str, fingerprint: str, runtime: Runtime, code: str) -> str:
    """Key of what one model's evaluation writes: its clean records (keyed by the test split's fingerprint) and its
    diagnostics (the evaluation subset's): the model's weights and code, the data, the runtime and the evaluation code."""
    return canonical_hash([weights, model_code, fingerprint, asdict(runtime), code])


def attack_key(
    attack: AttackSpec,
    model: tuple[str, str],
    source: tuple[str, str] | None,
    eval_fingerprint: str,
    seed: int,
    runtime: Runtime,
    code: str,
    clean: str,
) -> str:
    """Key of an attack cell's records: the attack's spec (less its id and model list), the (weights, code) of the
    model and of a transfer source, the evaluation subset, seed, runtime, code, and the clean shard it is judged against."""
    return canonical_hash(
        {
            "attack": attack.model_dump(mode="json", exclude={"id", "models"}),
            "model": list(model),
            "source": list(source) if source else None,
            "data": eval_fingerprint,
            "seed": seed,
            "runtime": asdict(runtime),
            "code": code,
            "clean": clean,
        }
    )


def cost_key(
    model: tuple[str, str], teachers: list[tuple[str, str]], test_fingerprint: str, runtime: Runtime, code: str, device: str, threads: int
) -> str:
    """Key of a cost measurement: what is measured (weights, code, teachers, test split) and how (runtime, device, threads)."""
    return canonical_hash(
        {
            "model": list(model),
            "teachers": [list(t) for t in teachers],
            "data": test_fingerprint,
            "runtime": asdict(runtime),
            "code": code,
            "device": device,
            "threads": threads,
        }
    )


def task_key(kind: str, parts: Any) -> str:
    """A Dask task's key: its kind and a hash of exactly its arguments, so two runs submitting one key mean the same work."""
    return f"{kind}-{canonical_hash(parts)}"
