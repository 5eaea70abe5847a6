"""What else, besides the spec, data, weights and seed, can change a result: code, libraries, device.

A cached model or records shard is keyed by everything that determines it. Two
parts of that are not in the suite file:

* ``Runtime``: the versions of torch, torchvision, ART and torchattacks, the
  dtype and the device type the cell runs with. Another CUDA build, a torch
  upgrade or a switch from CPU to GPU gives other numbers, so it gives other keys.
* code digests (``digest``): the source of exactly the code that computes the
  result. ``bench.pipeline.cells.execute`` says which code that is for each kind of cell:
  an architecture's class (and the bench classes it derives from), the training
  loop and train step; an attack's modules (its class and every base), the
  contract's tensor helpers, views and losses, and the attack cell. Module
  granularity errs on the side of recomputing: editing one adapter in a backend
  module recomputes every attack of that module.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

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


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
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
