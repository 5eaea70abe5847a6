"""Figures for reports, drawn from DataFrames (never from files), each saved as PNG, SVG and PDF.

Every ``plot_*`` function returns a ``Plot`` whose ``series`` are read back from
the drawn artists (lines, bars, images), so tests check the data actually
plotted rather than pixels. A function returns None when its figure does not
apply to the run (e.g. a single temperature); the caller decides what to say.
Figures use the object-oriented API (``matplotlib.figure.Figure``) so that no
pyplot global state is involved and the Agg canvas is used for saving.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from matplotlib.transforms import ScaledTranslation

from bench.fsutil import atomic_write_bytes
from bench.reporting.doc import Plot, Series
from bench.results.metrics import common_eps, wilson
from bench.results.records import WORST

NORM_NAMES = {"linf": "L∞", "l2": "L2", "l0": "L0"}
LINESTYLES = {"naive": "--", "transfer": ":", "adaptive": "-"}
MAX_COLUMNS = 3


def norm_name(norm: str) -> str:
    """``linf`` -> ``L∞``."""
    return NORM_NAMES.get(norm, norm)


def eps_axis_label(norm: str) -> str:
    """The x label of a budget axis, with its unit."""
    if norm == "l0":
        return "eps (L0 budget: number of changed input features)"
    return f"eps ({norm_name(norm)} norm, pixel scale [0, 1])"


def eps_text(eps: float, norm: str) -> str:
    """``eps 0.3`` or ``unbounded`` for a minimum-norm attack's unbounded row."""
    return f"unbounded {norm_name(norm)}" if math.isinf(eps) else f"{norm_name(norm)} eps {eps:g}"


def _collect(fig: Figure) -> tuple[dict[str, Series], dict[str, np.ndarray]]:
    series: dict[str, Series] = {}
    images: dict[str, np.ndarray] = {}
    for ax in fig.axes:
        panel = ax.get_title()
        for line in ax.get_lines():
            label = line.get_label()
            if not label.startswith("_"):
                series[f"{panel}|{label}"] = (list(line.get_xdata()), [float(v) for v in line.get_ydata()])
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        for c in ax.containers:
            if c.get_label().startswith("_"):
                continue
            if isinstance(c, BarContainer):
                series[f"{panel}|{c.get_label()}"] = (ticks[: len(c.patches)], [float(p.get_height()) for p in c.patches])
            elif isinstance(c, ErrorbarContainer) and c.lines[0] is not None:
                # errorbar() labels its container, not its data line.
                series[f"{panel}|{c.get_label()}"] = (list(c.lines[0].get_xdata()), [float(v) for v in c.lines[0].get_ydata()])
        for im in ax.images:
            images[ax.get_label()] = np.asarray(im.get_array())
    return series, images


FIGURE_FORMATS = (".png", ".svg", ".pdf")
"""Every file a figure is saved as: PNG for the reports, SVG and PDF for papers."""
PNG_DPI = 110
"""The PNG's resolution; the SVG and PDF keep the figure's own dpi (it only sets the resolution of embedded images)."""
SAVE_SETTINGS = {"svg.hashsalt": "bench", "svg.fonttype": "path", "pdf.fonttype": 42}
"""matplotlib settings for saving, applied around each save only (never to the caller's process): a fixed SVG hash salt,
and TrueType (Type 42) fonts in PDFs, since many venues reject the Type 3 fonts matplotlib embeds by default."""


def save_plot(fig: Figure, out_dir: Path, name: str, title: str, caption: str) -> Plot:
    """Title ``fig`` with ``title``, save it as ``<out_dir>/<name>.png``, ``.svg`` and ``.pdf`` and read back the data it shows.

    Redrawing the same records gives byte-identical SVG and PDF files: they carry no date, or, when
    ``SOURCE_DATE_EPOCH`` is set (the reproducible-builds convention, which matplotlib reads), that date.
    """
    fig.suptitle(title)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg, pdf = (out_dir / f"{name}{ext}" for ext in FIGURE_FORMATS)
    dated = "SOURCE_DATE_EPOCH" in os.environ
    saved: dict[str, str] = {}
    with matplotlib.rc_context(SAVE_SETTINGS):
        # Lay the figure out and find its tight box once, not once per file: "tight" on each savefig
        # runs the layout engine and a full measuring pass three times over. Measured at the PNG's dpi,
        # since hinted text is wider at 110 dpi than at 100 and an outside legend would be clipped.
        vector_dpi = fig.dpi
        fig.set_dpi(PNG_DPI)
        fig.draw_without_rendering()
        box = fig.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])
        fig.set_layout_engine("none")
        for path, options in [
            (png, {"dpi": PNG_DPI}),
            (svg, {"dpi": vector_dpi, "metadata": {} if dated else {"Date": None}}),
            (pdf, {"dpi": vector_dpi, "metadata": {} if dated else {"CreationDate": None}}),
        ]:
            # Through memory, then renamed into place: a reader never sees half a figure.
            buf = io.BytesIO()
            fig.savefig(buf, format=path.suffix[1:], bbox_inches=box, **options)
            atomic_write_bytes(path, buf.getvalue())
            saved[path.suffix] = hashlib.sha256(buf.getvalue()).hexdigest()
    series, images = _collect(fig)
    return Plot(name, title, caption, png, svg, series, images, pdf, saved)


def _colors(keys: list[str]) -> dict[str, tuple[float, ...]]:
    cmap = matplotlib.colormaps["tab10"]
    return {k: cmap(i % 10) for i, k in enumerate(keys)}


def _attack_label(row: pd.Series) -> str:
    src = f" from {row['source']}" if row.get("source") else ""
    return f"{row['attack']} [{row['tag']}{src}]"


def plot_robust_accuracy(summary: pd.DataFrame, suite: str, out_dir: Path, name: str = "robust_accuracy_vs_eps") -> Plot | None:
    """Robust accuracy vs eps: one panel per norm x model, a line per attack, and the per-sample worst case.

    The worst case (black, with its 95% Wilson band) is the envelope that counts:
    a sample is robust only if it survives every attack of that norm. Naive
    attacks are dashed, transfer dotted, adaptive solid; unbounded rows of minimum-norm attacks
    have no place on an eps axis and are left out.
    """
    if not len(summary):
        return None
    bounded = summary[np.isfinite(summary["eps"].astype(float))]
    if not len(bounded):
        return None
    norms = list(dict.fromkeys(bounded["norm"]))
    models = list(dict.fromkeys(bounded["model"]))
    attacks = [a for a in dict.fromkeys(bounded["attack"]) if a != WORST]
    colors = _colors(attacks)
    markers = {a: "ovD^<>pPX*"[i % 10] for i, a in enumerate(attacks)}
    # One panel per norm x model, wrapped at MAX_COLUMNS so that sweeps with many models stay readable.
    panels = [(norm, model) for norm in norms for model in models]
    ncols = min(len(panels), MAX_COLUMNS)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.8 * nrows + 1.2), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    for ax in grid[len(panels) :]:
        ax.set_axis_off()
    handles: dict[str, object] = {}
    # More axes than panels: the spare ones were switched off above.
    for ax, (norm, model) in zip(grid, panels, strict=False):
        ax.set_title(f"{model}, {norm_name(norm)}")
        g = bounded[(bounded["norm"] == norm) & (bounded["model"] == model)]
        if not len(g):
            ax.text(0.5, 0.5, f"no {norm_name(norm)} attacks on {model}", ha="center", va="center", transform=ax.transAxes)
            continue
        worst = g[g["attack"] == WORST].sort_values("eps")
        if len(worst):
            # Drawn first, wide and pale, so the attack lines that make up the envelope stay visible on top.
            band = ax.fill_between(
                worst["eps"],
                100 * worst["robust_accuracy_lo"],
                100 * worst["robust_accuracy_hi"],
                color="black",
                alpha=0.12,
                lw=0,
                label="worst case 95% Wilson interval",
            )
            (h,) = ax.plot(
                worst["eps"],
                100 * worst["robust_accuracy"],
                color="black",
                alpha=0.55,
                lw=5,
                marker="s",
                ms=7,
                label="worst case over attacks (per sample)",
                zorder=2,
            )
            handles.setdefault(h.get_label(), h)
            handles.setdefault(band.get_label(), band)
        for attack, line in g[g["attack"] != WORST].groupby("attack", sort=False):
            line = line.sort_values("eps")
            first = line.iloc[0]
            label = _attack_label(first)
            (h,) = ax.plot(
                line["eps"],
                100 * line["robust_accuracy"],
                marker=markers[attack],
                ms=6 if len(line) > 1 else 9,
                lw=1.4,
                color=colors[attack],
                linestyle=LINESTYLES.get(first["tag"], "-"),
                label=label,
                zorder=3,
                markerfacecolor="none" if len(line) == 1 else colors[attack],
            )
            handles.setdefault(label, h)
        ax.set_xticks(sorted(set(g["eps"])))
        ax.set_xlabel(eps_axis_label(norm))
        ax.set_ylabel("robust accuracy (% of all samples)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="outside lower center",
        ncols=min(3, len(handles)),
        fontsize=8,
        title="attack [tag] (naive dashed, transfer dotted, adaptive solid)",
        title_fontsize=8,
    )
    title = f"{suite}: robust accuracy vs eps"
    caption = (
        "Robust accuracy over all samples against the budget eps, per model and norm. The black line is the "
        "per-sample worst case over every attack of that norm (band: 95% Wilson interval)."
    )
    return save_plot(fig, out_dir, name, title, caption)


def _pooled(g: pd.DataFrame, k: str, n: str) -> tuple[float, float, float]:
    # Models that share a temperature (seed replicates) are pooled: one interval over all their samples.
    hits, total = int(g[k].sum()), int(g[n].sum())
    lo, hi = wilson(hits, total)
    return (hits / total if total else math.nan), lo, hi


def _temperature_axis(ax: Axes, temps: list[float]) -> None:
    # Generous x margins: points are shifted sideways on screen and must not fall off the edges.
    if min(temps) > 0 and max(temps) / min(temps) >= 10:
        ax.set_xscale("log")
        ax.set_xlim(min(temps) / 1.6, max(temps) * 1.6)
    else:
        pad = 0.08 * (max(temps) - min(temps))
        ax.set_xlim(min(temps) - pad, max(temps) + pad)
    ax.set_xticks(temps, [f"{t:g}" for t in temps])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training temperature T of the swept model")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)


def plot_temperature(
    summary: pd.DataFrame, clean: pd.DataFrame, temperatures: Mapping[str, float], suite: str, out_dir: Path, name: str = "temperature"
) -> Plot | None:
    """Papernot's figures: attack success rate vs temperature (a line per attack) and clean accuracy vs temperature.

    Only attacked models count, and only when they span at least two temperatures.
    Each attack is read at its largest eps, a minimum-norm attack at its unbounded
    row; the legend says which. Models sharing a temperature are pooled.
    """
    if not len(summary):
        return None
    attacked = [m for m in dict.fromkeys(summary["model"]) if m in temperatures]
    temps = sorted({temperatures[m] for m in attacked})
    if len(temps) < 2:
        return None
    rows = summary[(summary["attack"] != WORST) & summary["model"].isin(attacked)]
    rows = rows.assign(T=rows["model"].map(temperatures))
    fig = Figure(figsize=(12, 6.2), layout="constrained")
    ax_s, ax_c = fig.subplots(1, 2)
    colors = _colors(list(dict.fromkeys(rows["attack"])))
    for attack, g in rows.groupby("attack", sort=False):
        unbounded = (g["kind"] == "min_norm").all()
        finite = g["eps"][np.isfinite(g["eps"])]
        eps = math.inf if unbounded or not len(finite) else float(finite.max())
        pick = g[g["eps"] == eps]
        xs, ys, err = [], [], [[], []]
        for t, at_t in pick.groupby("T", sort=True):
            p, lo, hi = _pooled(at_t, "n_success", "n_correct")
            if math.isnan(p):
                continue
            xs.append(float(t))
            ys.append(100 * p)
            err[0].append(100 * max(p - lo, 0.0))
            err[1].append(100 * max(hi - p, 0.0))
        first = pick.iloc[0]
        # Equal values (e.g. two FGSM backends) would hide each other: shift each attack sideways by a few
        # points on screen only; the plotted data stay exact.
        k = list(colors).index(attack)
        shift = ScaledTranslation((k - (len(colors) - 1) / 2) * 3 / 72, 0, fig.dpi_scale_trans)
        ax_s.errorbar(
            xs,
            ys,
            yerr=err,
            marker="ovD^<>pPX*"[k % 10],
            ms=6,
            capsize=3,
            color=colors[attack],
            linestyle=LINESTYLES.get(first["tag"], "-"),
            transform=ax_s.transData + shift,
            label=f"{_attack_label(first)} at {eps_text(eps, first['norm'])}",
        )
    ax_s.set_title("attack success rate vs T")
    ax_s.set_ylabel("attack success rate (% of correctly classified)")
    _temperature_axis(ax_s, temps)
    ax_s.legend(
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=2,
        title="attack [tag] at budget (naive dashed, transfer dotted)",
        title_fontsize=8,
    )
    c = clean[clean["model"].isin(attacked)]
    c = c.assign(T=c["model"].map(temperatures))
    xs, ys, err, names = [], [], [[], []], []
    for t, at_t in c.groupby("T", sort=True):
        p, lo, hi = _pooled(at_t, "n_correct", "n_samples")
        xs.append(float(t))
        ys.append(100 * p)
        err[0].append(100 * max(p - lo, 0.0))
        err[1].append(100 * max(hi - p, 0.0))
        names.append(", ".join(at_t["model"]))
    ax_c.errorbar(xs, ys, yerr=err, marker="o", capsize=3, color="black", label="clean accuracy (95% Wilson interval)")
    for x, y, n in zip(xs, ys, names, strict=True):
        ax_c.annotate(n if len(n) <= 40 else n[:37] + "...", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=7)
    ax_c.set_title("clean accuracy vs T")
    ax_c.set_ylabel("clean accuracy (% of all samples)")
    _temperature_axis(ax_c, temps)
    ax_c.legend(fontsize=7, loc="lower left")
    title = f"{suite}: attack success and clean accuracy vs distillation temperature"
    caption = (
        "Attack success rate (over correctly classified samples) and clean accuracy against each model's training "
        "temperature; each attack at its largest eps (minimum-norm attacks unbounded). Bars: 95% Wilson intervals."
    )
    return save_plot(fig, out_dir, name, title, caption)


def plot_min_norm_cdf(records: pd.DataFrame, suite: str, out_dir: Path, name: str = "min_l2_cdf") -> Plot | None:
    """CDFs of the minimal L2 perturbation found by each minimum-norm L2 attack, a panel per attack, a line per model.

    The y value at x is the share of correctly classified samples that the attack
    broke with ||delta||_2 <= x, so a curve tops out at the attack's success rate
    (samples it never broke count as infinitely far).
    """
    mn = records[(records["kind"] == "min_norm") & np.isinf(records["eps"].astype(float)) & (records["norm"] == "l2")]
    if not len(mn):
        return None
    attacks = list(dict.fromkeys(mn["attack"]))
    colors = _colors(list(dict.fromkeys(mn["model"])))
    fig = Figure(figsize=(5.2 * len(attacks), 4.4), layout="constrained")
    axes = fig.subplots(1, len(attacks), squeeze=False)[0]
    for ax, attack in zip(axes, attacks, strict=True):
        g = mn[mn["attack"] == attack]
        first = g.iloc[0]
        ax.set_title(f"{attack} ({first['use']}, view {first['view']})")
        for model, m in g.groupby("model", sort=False):
            ok = m[m["clean_pred"] == m["label"]]
            d = np.sort(ok.loc[ok["success"], "l2"].to_numpy(dtype=float))
            n = len(ok)
            if not n:
                continue
            y = np.arange(len(d) + 1) / n * 100
            med = f"median {np.median(d):.2f}" if len(d) else "none found"
            ax.step(np.r_[0.0, d], y, where="post", color=colors[model], lw=1.8, label=f"{model}: {len(d)}/{n} broken, {med}")
        ax.set_xlabel("minimal L2 perturbation ||δ||₂ (pixel scale [0, 1])")
        ax.set_ylabel("broken within that L2 (% of correctly classified)")
        ax.set_ylim(-2, 102)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    title = f"{suite}: CDF of minimal L2 perturbations"
    caption = (
        "Share of correctly classified samples that each minimum-norm L2 attack broke within a given L2 distance. "
        "A curve tops out at the attack's success rate. Carlini & Wagner found distillation barely moves these curves."
    )
    return save_plot(fig, out_dir, name, title, caption)


def plot_naive_vs_adaptive(nva: pd.DataFrame, suite: str, out_dir: Path, name: str = "naive_vs_adaptive") -> Plot | None:
    """Bars per model: worst-case robust accuracy under naive vs adaptive attacks, at the largest common eps per norm.

    The gap between the bars is the robustness that only masked gradients buy.
    """
    if not len(nva):
        return None
    panels = [
        (norm, common_eps(set(m["eps"].astype(float)) for _, m in g.groupby("model", sort=False)))
        for norm, g in nva.groupby("norm", sort=False)
    ]
    panels = [(n, e) for n, e in panels if e is not None]
    if not panels:
        return None
    fig = Figure(figsize=(max(5.0, 1.6 * nva["model"].nunique() + 2.5) * len(panels), 4.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (norm, eps) in zip(axes, panels, strict=True):
        g = nva[(nva["norm"] == norm) & (nva["eps"] == eps)]
        models = list(g["model"])
        x = np.arange(len(models))
        w = 0.38
        nb = ax.bar(x - w / 2, 100 * g["naive_robust_accuracy"], w, color="#9ecae1", edgecolor="black", label="naive attacks (worst case)")
        ab = ax.bar(
            x + w / 2, 100 * g["adaptive_robust_accuracy"], w, color="#de2d26", edgecolor="black", label="adaptive attacks (worst case)"
        )
        ax.bar_label(nb, fmt="%.1f", fontsize=7)
        ax.bar_label(ab, fmt="%.1f", fontsize=7)
        for xi, gap in zip(x, g["gap"], strict=True):
            ax.annotate(f"gap {100 * gap:+.1f} pts", (xi, 104), ha="center", fontsize=8, annotation_clip=False)
        ax.set_xticks(x, models)
        ax.set_title(f"{eps_text(eps, norm)}")
        ax.set_xlabel("model")
        ax.set_ylabel("robust accuracy (% of all samples)")
        ax.set_ylim(0, 112)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.16))
    title = f"{suite}: naive vs adaptive robust accuracy"
    caption = (
        "Per-sample worst-case robust accuracy under the naive and under the adaptive attacks, at the largest eps "
        "every model was attacked with. A large gap means the naive attacks were fooled (gradient masking)."
    )
    return save_plot(fig, out_dir, name, title, caption)
