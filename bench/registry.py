"""A registry maps ``backend.name`` keys to lazily imported objects, and knows where each came from.

Entries are ``"module:attr"`` strings, imported on first use, so that listing
keys or validating a spec never imports ART or torchattacks.

Plug-ins reach a registry two ways, both trusted code like a ``conftest.py``:

* installed packages declare entry points in the registry's group
  (``bench.attacks``, ``bench.architectures``, ``bench.datasets``): name = key,
  value = ``"module:attr"``. They are discovered on first use of the registry
  (reading package metadata imports nothing) and imported only when a key is used;
* a suite's ``plugins:`` list names modules that ``import_plugins`` imports; they
  call ``register`` themselves.

Every key remembers its origin (``bench``, ``<distribution> <version> (entry point)``,
``plugin module <name>``), which ``bench ls`` prints and the manifest records.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import metadata
from typing import Any, Generic, TypeVar

from bench.errors import PluginError

T = TypeVar("T")
BUILTIN = "bench"
# Set while a suite's plug-in module is imported, so its register() calls are attributed to it.
_loading: ContextVar[str | None] = ContextVar("bench_plugin_loading", default=None)


class UnknownKeyError(KeyError):
    """A key that is not registered; the message suggests close matches."""

    def __init__(self, kind: str, key: str, known: list[str]) -> None:
        self.kind, self.key, self.known = kind, key, known
        super().__init__(key)

    def __str__(self) -> str:
        close = difflib.get_close_matches(self.key, self.known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "available: " + ", ".join(self.known)
        return f"unknown {self.kind} '{self.key}'; {hint}"


def did_you_mean(word: str, options: list[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _default_origin(target: object) -> str:
    loading = _loading.get()
    if loading is not None:
        return f"plugin module {loading}"
    module = target.partition(":")[0] if isinstance(target, str) else getattr(target, "__module__", "?")
    return BUILTIN if module == "bench" or module.startswith("bench.") else f"module {module}"


class Registry(Generic[T]):
    """String keys to lazily imported objects, with did-you-mean errors and each key's origin."""

    def __init__(self, kind: str, group: str | None = None, coerce: Callable[[Any], T] | None = None) -> None:
        self.kind = kind
        self.group = group  # the entry-point group plug-in packages declare keys in
        self._coerce = coerce  # turns what an entry point names into a registry value (e.g. a class into a card)
        self._targets: dict[str, str | T] = {}
        self._registered: dict[str, object] = {}  # what register() was given, before any lazy import replaced it
        self._origins: dict[str, str] = {}
        self._discovered = group is None

    def register(self, key: str, target: str | T, origin: str | None = None) -> None:
        """Register ``target`` (an object or a ``"module:attr"`` string) under ``key``.

        Registering the same target again under the same key is a no-op, so a plug-in
        module that is both installed (entry point) and listed in ``plugins:`` is harmless.
        """
        origin = origin or _default_origin(target)
        if key in self._targets:
            if self._registered[key] == target:
                return
            raise PluginError(f"duplicate {self.kind} key '{key}': from {origin}, already registered by {self._origins[key]}")
        self._targets[key] = target
        self._registered[key] = target
        self._origins[key] = origin

    def unregister(self, key: str) -> None:
        """Remove ``key``; tests use this to clean up what they registered."""
        self._targets.pop(key, None)
        self._registered.pop(key, None)
        self._origins.pop(key, None)

    def keys(self) -> list[str]:
        """All registered keys, sorted."""
        self._discover()
        return sorted(self._targets)

    def origin(self, key: str) -> str:
        """Where ``key`` came from: ``bench``, an installed distribution, or a plug-in module."""
        self._discover()
        if key not in self._origins:
            raise UnknownKeyError(self.kind, key, self.keys())
        return self._origins[key]

    def __contains__(self, key: object) -> bool:
        self._discover()
        return key in self._targets

    def get(self, key: str) -> T:
        """The object registered under ``key``, importing it on first use."""
        self._discover()
        if key not in self._targets:
            raise UnknownKeyError(self.kind, key, self.keys())
        target = self._targets[key]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            try:
                obj = getattr(importlib.import_module(module), attr)
                target = self._coerce(obj) if self._coerce else obj
            except (ImportError, AttributeError, TypeError) as exc:
                if self._origins[key] == BUILTIN:
                    raise  # a bug in bench itself: keep the traceback
                raise PluginError(f"{self.kind} '{key}' from {self._origins[key]}: cannot load {target} ({exc})") from None
            self._targets[key] = target
        return target  # type: ignore[return-value]

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for ep in metadata.entry_points(group=self.group or ""):
            dist = getattr(ep, "dist", None)
            origin = f"{dist.name} {dist.version} (entry point)" if dist is not None else f"entry point {ep.value}"
            self.register(ep.name, ep.value, origin)

    def rediscover(self) -> None:
        """Forget the entry points found so far and look again (after installing a package in-process)."""
        for key in [k for k, o in self._origins.items() if o.endswith("(entry point)")]:
            self.unregister(key)
        self._discovered = self.group is None


@contextmanager
def _attributed_to(name: str) -> Any:
    token = _loading.set(name)
    try:
        yield
    finally:
        _loading.reset(token)


def import_plugins(names: Iterable[str]) -> None:
    """Import a suite's ``plugins:`` modules; their ``register`` calls are attributed to them.

    These are trusted code, exactly like a ``conftest.py``: nothing else in a suite executes code.
    """
    for i, name in enumerate(names):
        with _attributed_to(name):
            try:
                importlib.import_module(name)
            except ImportError as exc:
                raise PluginError(f"plugins[{i}]: cannot import '{name}' ({exc})") from None
