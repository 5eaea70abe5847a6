"""A report's figure is drawn again only when what it is drawn from, or what draws it, changed.

Drawing and saving every figure as PNG, SVG and PDF is most of what `bench report` costs, and
most of a rerun whose cells were all reused (about 8 of 10 seconds for the smoke suite's seven
figures). A figure's key covers everything that can change its files:

* its inputs, by content: DataFrames by their values, index, columns and dtypes, arrays by
  their bytes, dataclasses field by field, and plain values by type and repr;
* the drawing function's name and the source of the whole ``bench`` package;
* the versions of matplotlib, numpy and pandas, matplotlib's settings (a user's matplotlibrc
  included), the font it resolves to, and ``SOURCE_DATE_EPOCH``.

The key, title, caption and the sha256 of each saved file are kept in ``plots/figures.json``. A
figure whose key matches and whose PNG, SVG and PDF are there as they were saved is reused; any
other is drawn again (an entry is dropped before its figure is drawn, so a draw killed halfway is
never reused). An input of a type this module cannot key makes its figure drawn every time: when
in doubt, draw.
A reused ``Plot`` names its files but carries no ``series``: those are read from artists, and
nothing was drawn.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager

from bench.fsutil import atomic_write_text, file_sha256
from bench.reporting.doc import Plot
from bench.reporting.figures.plots import FIGURE_FORMATS, SAVE_SETTINGS

log = logging.getLogger(__name__)

INDEX = "figures.json"
"""In a report's plots/ folder: figure name -> the key it was drawn with, its title, caption and files' sha256."""


class Unkeyable(TypeError):
    """An input whose content this module cannot key: its figure is drawn every time."""


def _feed(h: Any, obj: Any) -> None:
    # Every value is tagged with its type, so that 1, 1.0, "1" and [1] never collide.
    if obj is None or isinstance(obj, (bool, int, str, bytes)):
        h.update(f"{type(obj).__name__}:{obj!r}\0".encode())
    elif isinstance(obj, float):
        h.update(f"float:{'nan' if math.isnan(obj) else obj.hex()}\0".encode())
    elif isinstance(obj, np.generic):
        _feed(h, obj.item())
    elif isinstance(obj, pd.DataFrame):
        h.update(f"frame:{list(map(str, obj.columns))!r}:{list(map(str, obj.dtypes))!r}:{obj.shape}\0".encode())
        try:
            h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
        except TypeError as exc:  # cells holding lists or dicts
            raise Unkeyable(str(exc)) from exc
        _feed(h, list(map(str, obj.index.names)))
    elif isinstance(obj, pd.Series):
        _feed(h, obj.to_frame(name=str(obj.name)))
    elif isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise Unkeyable("an object array")
        h.update(f"array:{obj.dtype.str}:{obj.shape}\0".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, Mapping):
        # In insertion order: a figure may draw its panels in a mapping's order.
        h.update(f"map:{len(obj)}\0".encode())
        for key in obj:
            _feed(h, key)
            _feed(h, obj[key])
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}:{len(obj)}\0".encode())
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, (set, frozenset)):
        _feed(h, sorted(obj, key=repr))
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"dataclass:{type(obj).__module__}.{type(obj).__qualname__}\0".encode())
        for f in dataclasses.fields(obj):
            _feed(h, f.name)
            _feed(h, getattr(obj, f.name))
    else:
        raise Unkeyable(f"cannot key a {type(obj).__name__}")


@cache
def _bench_source() -> str:
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    # Fixed for the life of a process, unlike the settings and the environment, which are read for every figure.
    found = []
    for name in ("matplotlib", "numpy", "pandas", "pillow"):
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "unknown"))
    return tuple(found)


def _environment() -> list[Any]:
    # dict.items: the raw settings, without RcParams resolving the backend on access.
    settings = sorted((k, repr(v)) for k, v in dict.items(matplotlib.rcParams) if not k.startswith("backend"))
    font = font_manager.findfont(font_manager.FontProperties())
    return [_bench_source(), list(_versions()), settings, sorted(SAVE_SETTINGS.items()), font, os.environ.get("SOURCE_DATE_EPOCH")]


def figure_key(draw: Callable[..., Any], inputs: tuple[Any, ...]) -> str | None:
    """The key of the figure ``draw(*inputs, out_dir)`` saves, or None when an input cannot be keyed."""
    h = hashlib.sha256()
    try:
        _feed(h, f"{draw.__module__}.{draw.__qualname__}")
        _feed(h, list(inputs))
        _feed(h, _environment())
    except Unkeyable as exc:
        log.debug("%s drawn without reuse: %s", draw.__qualname__, exc)
        return None
    return h.hexdigest()


def _read_index(out_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        index = json.loads((out_dir / INDEX).read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: every figure is drawn
    return index if isinstance(index, dict) else {}


def draw_or_reuse(out_dir: Path, name: str, draw: Callable[..., Plot | None], *inputs: Any) -> Plot | None:
    """The figure ``draw(*inputs, out_dir)`` saves as ``out_dir/<name>.*``, reused when it was drawn with the same key.

    A figure that does not apply (``draw`` returns None) is forgotten, so it is never reused later.
    """
    key = figure_key(draw, inputs)
    index = _read_index(out_dir)
    entry = index.get(name)
    files = [out_dir / f"{name}{ext}" for ext in FIGURE_FORMATS]
    if key is not None and isinstance(entry, dict) and entry.get("key") == key:
        saved = _digests(files)
        if saved is not None and saved == entry.get("files"):
            png, svg, pdf = files
            return Plot(name, str(entry.get("title", "")), str(entry.get("caption", "")), png, svg, pdf=pdf)
    if name in index:
        _update_index(out_dir, name, None)  # forgotten before drawing: a draw killed halfway is never taken for the old figure
    plot = draw(*inputs, out_dir)
    if plot is not None and key is not None and plot.name == name:
        # The digests of the bytes this draw saved, not of what is on disk by now (another report may have written since).
        saved = plot.sha256 if set(plot.sha256) == set(FIGURE_FORMATS) else _digests(files)
        _update_index(out_dir, name, {"key": key, "title": plot.title, "caption": plot.caption, "files": saved})
    return plot


def _digests(files: list[Path]) -> dict[str, str] | None:
    # The files as they were saved: one edited, truncated or deleted since is drawn again.
    try:
        return {p.suffix: file_sha256(p) for p in files}
    except OSError:
        return None


def _update_index(out_dir: Path, name: str, entry: dict[str, Any] | None) -> None:
    # Read again just before writing, so that another report's entries written meanwhile are kept (a lost one only
    # costs a redraw: the digests decide reuse).
    index = _read_index(out_dir)
    if entry is None:
        index.pop(name, None)
    else:
        index[name] = entry
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / INDEX, json.dumps(index, indent=1, sort_keys=True))
