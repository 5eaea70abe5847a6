"""The document model shared by every report bench writes: sections, tables, figures and cell formatting.

A run report, a leaderboard and a job summary are each a ``ReportDoc``;
``bench.reporting.markdown`` and ``bench.reporting.html`` render one. Keeping
the content apart from its rendering is what makes report.md, summary.md and
report.html say the same thing.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

Series = tuple[list[object], list[float]]


@dataclass(frozen=True)
class Plot:
    """A saved figure (PNG, SVG, PDF) and the data it shows (``series``: "panel|label" -> (x, y); ``images``: axes label -> array)."""

    name: str
    title: str
    caption: str
    png: Path
    svg: Path
    series: dict[str, Series] = field(default_factory=dict)
    images: dict[str, np.ndarray] = field(default_factory=dict)
    pdf: Path | None = None  # the same figure as PDF, for papers
    sha256: dict[str, str] = field(default_factory=dict)  # suffix -> sha256 of the bytes saved (empty for a reused figure)


@dataclass(frozen=True)
class Table:
    """A table ready to render: display strings, and an optional CSS class per row (``fail``, ``warn``)."""

    frame: pd.DataFrame
    row_classes: tuple[str, ...] = ()
    title: str = ""  # a caption above the table
    collapsed: str = ""  # when set, the table is folded away under this summary line (<details>)


@dataclass(frozen=True)
class Section:
    """One heading of the report with its text, tables, figures and preformatted blocks."""

    title: str
    text: str = ""
    tables: tuple[Table, ...] = ()
    plots: tuple[Plot, ...] = ()
    code: str = ""
    code_title: str = ""
    figures_only: bool = False  # left out of summary.md


@dataclass(frozen=True)
class ReportDoc:
    """Everything the Markdown and HTML renderers need."""

    title: str
    subtitle: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def fmt(v: object) -> str:
    """A table cell: 4 significant digits, – for NaN, ∞ for inf."""
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞"
        return f"{v:.4g}"
    return str(v)


def eps_as_written(eps: float) -> str:
    """A budget as papers write it: ``0.3``, or ``8/255`` when it is a whole number of 255ths that ``:g`` would blur."""
    short = f"{eps:g}"
    steps = eps * 255
    if len(short) > 6 and steps > 0 and abs(steps - round(steps)) < 1e-6:
        return f"{round(steps)}/255"
    return short


def markdown_table(frame: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    if not len(frame):
        return "_(none)_\n"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame[cols].iterrows():
        lines.append("| " + " | ".join(fmt(row[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def pct(v: object) -> str:
    """``85.0%``: a rate on [0, 1] in percent, the one way every report writes one; – for NaN or a value that is no number."""
    if not isinstance(v, numbers.Real) or math.isnan(v):
        return "–"
    return f"{100 * v:.1f}%"


def pct_ci(v: float, lo: float, hi: float) -> str:
    """``85.0% [79.4, 89.3]``."""
    return "–" if math.isnan(v) else f"{pct(v)} [{100 * lo:.1f}, {100 * hi:.1f}]"


def pts(v: float) -> str:
    """``+12.5 pts``: a difference of two rates in percentage points; – for NaN."""
    return "–" if math.isnan(v) else f"{100 * v:+.1f} pts"


def mean_std(m: float, s: float) -> str:
    return "–" if math.isnan(m) else f"{100 * m:.1f} ± {100 * s:.1f}%"


def display_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    cols = [c for c in columns if c in frame.columns]
    return pd.DataFrame({c: [fmt(v) for v in frame[c]] for c in cols}, columns=cols)
