"""A registry maps ``backend.name`` keys to lazily imported classes.

Entries are ``"module:attr"`` strings, imported on first use, so that listing
keys or validating a spec never imports ART or torchattacks.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, TypeVar

T = TypeVar("T")


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


class Registry(Generic[T]):
    """String keys to lazily imported objects, with did-you-mean errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, str | T] = {}

    def register(self, key: str, target: str | T) -> None:
        """Register ``target`` (an object or a ``"module:attr"`` string) under ``key``."""
        if key in self._targets:
            raise ValueError(f"duplicate {self.kind} key '{key}'")
        self._targets[key] = target

    def unregister(self, key: str) -> None:
        """Remove ``key``; tests use this to clean up attacks they registered."""
        self._targets.pop(key, None)

    def keys(self) -> list[str]:
        """All registered keys, sorted."""
        return sorted(self._targets)

    def __contains__(self, key: object) -> bool:
        return key in self._targets

    def get(self, key: str) -> T:
        """The object registered under ``key``, importing it on first use."""
        if key not in self._targets:
            raise UnknownKeyError(self.kind, key, self.keys())
        target = self._targets[key]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module), attr)
            self._targets[key] = target
        return target  # type: ignore[return-value]
