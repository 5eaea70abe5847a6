"""The answer first: the report's "At a glance" and "Defences" sections, and the defences figure.

A reader comparing defences wants, per model: clean accuracy, robust accuracy under
the naive and under the adaptive attacks (per-sample worst case within each group,
on the samples both groups attacked: ``naive_vs_adaptive``), and whether the
masking checks believe it. Everything here is read from a run's tables, never
recomputed differently, so the glance, the defences table and the full tables agree.

* ``defences_frame``: per model x norm x eps, both worst cases with 95% Wilson intervals;
* ``glance_section``: one row per model at each norm's headline eps (the largest eps
  every model was compared at), its verdict and a one-line reason; then the full
  per-attack table pivoted so models sit side by side, the failed and warned checks,
  and the passing checks, collapsed;
* ``defences_section`` and ``plot_defences``: every eps, as a table and as a figure
  (naive dashed, adaptive solid, one colour per model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bench.reporting.doc import Plot, Section, Table, display_frame, markdown_table, pct, pct_ci, pts
from bench.reporting.figures.plots import _colors, eps_axis_label, norm_name, save_plot
from bench.reporting.report.claims import claim_text, read_claims
from bench.results.flags import model_verdicts
from bench.results.metrics import common_eps, count_of, wilson
from bench.results.records import WORST
from bench.results.run_folder import RunFolder

if TYPE_CHECKING:
    from bench.results.tables import RunTables
    from bench.spec.schema import ClaimedSpec

DEFENCE_COLUMNS = [
    "model",
    "norm",
    "eps",
    "n_samples",
    "naive",
    "naive_lo",
    "naive_hi",
    "adaptive",
    "adaptive_lo",
    "adaptive_hi",
    "gap",
]


def defences_frame(nva: pd.DataFrame) -> pd.DataFrame:
    """Naive and adaptive worst-case robust accuracy per model x norm x eps, each with its 95% Wilson interval.

    The intervals come from the counts ``nva`` carries (``n_naive_robust``, ``n_adaptive_robust`` of ``n_samples``).
    """
    rows = []
    for r in nva.itertuples():
        n = int(r.n_samples)
        row: dict[str, object] = {"model": r.model, "norm": r.norm, "eps": float(r.eps), "n_samples": n}
        for name in ("naive", "adaptive"):
            lo, hi = wilson(int(getattr(r, f"n_{name}_robust")), n)
            row |= {name: float(getattr(r, f"{name}_robust_accuracy")), f"{name}_lo": lo, f"{name}_hi": hi}
        row["gap"] = float(r.gap)
        rows.append(row)
    return pd.DataFrame(rows, columns=DEFENCE_COLUMNS)


NAIVE_ADAPTIVE_COLUMNS = ["naive", "naive_lo", "naive_hi", "adaptive", "adaptive_lo", "adaptive_hi"]


def naive_adaptive_columns(nva_rows: pd.DataFrame) -> dict[str, float]:
    """The leaderboard's naive and adaptive worst cases with intervals, from one model's ``nva`` row at its eps (NaN without)."""
    d = defences_frame(nva_rows)
    return {c: float(d[c].iloc[0]) if len(d) else math.nan for c in NAIVE_ADAPTIVE_COLUMNS}


def leaderboard_defences(frame: pd.DataFrame) -> Table:
    """The leaderboard's defences view: per model, clean, naive and adaptive worst cases [95%], gap and masking verdict."""
    cols = [c for c in ("model", "suite", "clean_accuracy", *NAIVE_ADAPTIVE_COLUMNS, "gap", "masking") if c in frame.columns]
    f = frame[cols]
    out = pd.DataFrame(
        {
            "model": f["model"],
            "suite": f["suite"],
            "clean": [pct(v) for v in f["clean_accuracy"]],
            "naive worst case": _ci(f, "naive"),
            "adaptive worst case": _ci(f, "adaptive"),
            "gap": [pts(v) for v in f["gap"]],
            "masking verdict": f["masking"],
        }
    )
    return Table(
        out, tuple("fail" if v == "fail" else "warn" if v == "warn" else "" for v in f["masking"]), title="Defences: naive vs adaptive"
    )


def headline_eps(frame: pd.DataFrame) -> dict[str, float]:
    """Per norm, the largest eps at which every model of ``frame`` has both worst cases."""
    out = {}
    for norm, g in frame.groupby("norm", sort=False):
        eps = common_eps([set(m["eps"].astype(float)) for _, m in g.groupby("model", sort=False)], finite_only=True)
        if eps is not None:
            out[str(norm)] = eps
    return out


def verdict_reasons(flags: pd.DataFrame) -> pd.DataFrame:
    """Per model: masking verdict, reliable or not, and one line saying why (the first failed check's own message)."""
    verdicts = model_verdicts(flags)
    reasons = []
    for v in verdicts.itertuples():
        g = flags[(flags["model"].astype(str) == v.model) & (flags["category"] != "verdict")]
        bad = g[g["verdict"] == "fail"]
        # The gap says it in a reader's terms (naive x% robust, adaptive y%), so it leads when it is among them.
        bad = bad.assign(_o=[(c != "masking", k != "naive-adaptive-gap") for c, k in zip(bad["category"], bad["check"], strict=True)])
        bad = bad.sort_values("_o", kind="stable")
        if len(bad):
            first = bad.iloc[0]
            more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
            reasons.append(f"{first['check']}: {first['message']}{more}")
            continue
        # A warning is about one attack or one signal, not the verdict: name how many, not the first one's story.
        warned = g[g["verdict"] == "warn"]
        gap = g[g["check"] == "naive-adaptive-gap"]
        reason = "no check failed" if len(warned) else "every check passed"
        reason += f"; {gap['message'].iloc[0]}" if len(gap) else ""
        if len(warned):
            names = ", ".join(dict.fromkeys(str(c) for c in warned["check"]))
            reason += f"; {len(warned)} warning(s): {names}"
        reasons.append(reason)
    return verdicts.assign(reason=reasons)


def _ci(frame: pd.DataFrame, name: str) -> list[str]:
    return [pct_ci(v, lo, hi) for v, lo, hi in zip(frame[name], frame[f"{name}_lo"], frame[f"{name}_hi"], strict=True)]


def glance_frame(t: RunTables, claims: Mapping[str, ClaimedSpec] | None = None) -> pd.DataFrame:
    """One row per attacked model: clean accuracy, both worst cases at each norm's headline eps, what its paper
    claims (when any model of the run declares a claim), verdict and reason."""
    d = defences_frame(t.nva)
    heads = headline_eps(d)
    reasons = verdict_reasons(t.flags).set_index("model") if len(t.flags) else pd.DataFrame()
    clean = t.clean.set_index("model")
    attacked = list(dict.fromkeys(str(m) for m in t.summary["model"]))
    rows = []
    for model in attacked:
        row: dict[str, str] = {"model": model}
        if model in clean.index:
            c = clean.loc[model]
            row["clean"] = pct_ci(c["clean_accuracy"], c["clean_accuracy_lo"], c["clean_accuracy_hi"])
        for norm, eps in heads.items():
            hit = d[(d["model"] == model) & (d["norm"] == norm) & (d["eps"] == eps)]
            where = f"{norm_name(norm)} {eps:g}"
            row[f"naive @ {where}"] = _ci(hit, "naive")[0] if len(hit) else "–"
            row[f"adaptive @ {where}"] = _ci(hit, "adaptive")[0] if len(hit) else "–"
        if claims:
            row["claimed"] = claim_text(claims[model]) if model in claims else "–"
        r = reasons.loc[model] if model in reasons.index else None
        # Not a "verdict" column: the CSS paints a failed row's verdict cell red, and an unreliable model's masking may be pass.
        row["masking"] = str(r["masking"]) if r is not None else "–"
        row["reliable"] = ("no" if r["unreliable"] else "yes") if r is not None else "–"
        row["why"] = str(r["reason"]) if r is not None else "no checks ran"
        rows.append(row)
    return pd.DataFrame(rows)


def pivot_attacks(summary: pd.DataFrame) -> pd.DataFrame:
    """The per-attack table with one column per model (robust accuracy [95% interval]), rows attack x norm x eps."""
    if not len(summary):
        return pd.DataFrame()
    s = summary.assign(
        cell=[
            pct_ci(v, lo, hi)
            for v, lo, hi in zip(summary["robust_accuracy"], summary["robust_accuracy_lo"], summary["robust_accuracy_hi"], strict=True)
        ],
        _label=[
            f"{a} [{tag or 'all'}{f' from {src}' if isinstance(src, str) and src else ''}]"
            for a, tag, src in zip(summary["attack"], summary["tag"].fillna(""), summary["source"].fillna(""), strict=True)
        ],
    )
    models = list(dict.fromkeys(s["model"]))
    wide = s.pivot_table(index=["_label", "norm", "eps"], columns="model", values="cell", aggfunc="first", sort=False)
    wide = wide.reindex(columns=models).reset_index()
    # Worst-case rows last within each norm, eps ascending: the order a reader scans in.
    wide["_w"] = wide["_label"].str.startswith(WORST)
    wide = wide.sort_values(["norm", "_w", "_label", "eps"], kind="stable").drop(columns="_w")
    return display_frame(wide.rename(columns={"_label": "attack"}), ["attack", "norm", "eps", *models])


def glance_section(t: RunTables, claims: Mapping[str, ClaimedSpec] | None = None) -> Section:
    """The report's first section: the answer per model, with every detail collapsed under it."""
    glance = glance_frame(t, claims)
    heads = headline_eps(defences_frame(t.nva))
    at = ", ".join(f"{norm_name(n)} eps {e:g}" for n, e in heads.items()) or "no eps (no norm has naive and adaptive attacks)"
    text = (
        f"One row per model, at {at}: clean accuracy on the whole test split, robust accuracy under the naive and under "
        "the adaptive attacks (per-sample worst case within each group, on the samples both attacked; brackets are 95% "
        "Wilson intervals), the gradient-masking verdict and why. A defence is real when its adaptive number is high "
        "and its verdict is pass; a large naive-adaptive gap with a fail is robustness that only masked gradients buy."
    )
    rows = tuple("fail" if w == "no" else "" for w in glance.get("reliable", pd.Series(dtype=str)))
    tables = [Table(glance, rows)]
    flags = t.flags
    if len(flags) and "verdict" in flags:
        shown = flags[flags["category"] != "verdict"]
        cols = ["model", "attack", "check", "verdict", "value", "threshold", "message"]
        bad = shown[shown["verdict"] != "pass"]
        good = shown[shown["verdict"] == "pass"]
        if len(bad):
            tables.append(Table(display_frame(bad, cols), tuple(str(v) for v in bad["verdict"]), title="Failed and warned checks"))
        tables.append(Table(display_frame(good, cols), tuple("pass" for _ in range(len(good))), collapsed=f"Passing checks ({len(good)})"))
    pivot = pivot_attacks(t.summary)
    tables.append(
        Table(
            pivot,
            tuple("worst" if str(a).startswith(WORST) else "" for a in pivot.get("attack", [])),
            collapsed=f"Every attack, models side by side ({len(pivot)} rows: robust accuracy [95% interval])",
        )
    )
    return Section("At a glance", text, tuple(tables))


def defences_table(t: RunTables) -> pd.DataFrame:
    """The Defences table's rows: per model x norm x eps, clean accuracy, naive and adaptive worst cases [95%], gap, verdict."""
    d = defences_frame(t.nva)
    reasons = verdict_reasons(t.flags).set_index("model") if len(t.flags) else pd.DataFrame()
    clean = t.clean.set_index("model")
    frame = display_frame(d, ["model", "norm", "eps", "n_samples"]).assign(
        clean=[
            pct_ci(*clean.loc[m, ["clean_accuracy", "clean_accuracy_lo", "clean_accuracy_hi"]]) if m in clean.index else "–"
            for m in d["model"]
        ],
        naive=_ci(d, "naive"),
        adaptive=_ci(d, "adaptive"),
        gap=[pts(g) for g in d["gap"]],
        verdict=[str(reasons.loc[m, "masking"]) if m in reasons.index else "–" for m in d["model"]],
    )
    return frame


def defences_section(t: RunTables, plot: Plot | None) -> Section:
    """Every eps: clean accuracy, naive and adaptive worst cases with intervals, gap and verdict; the figure below it."""
    frame = defences_table(t)
    text = (
        "Per model and budget: naive and adaptive worst-case robust accuracy (95% Wilson intervals) on the samples both "
        "groups attacked, at every eps where the naive group has an iterative attack; clean accuracy on the whole test split."
    )
    if not len(frame):
        text += " No row: no norm has an iterative naive attack and an adaptive attack at a shared eps."
    rows = tuple("fail" if v == "fail" else "warn" if v == "warn" else "" for v in frame.get("verdict", []))
    return Section("Defences", text, (Table(frame, rows),), plots=(plot,) if plot is not None else ())


def plot_defences(nva: pd.DataFrame, clean: pd.DataFrame, suite: str, out_dir: Path, name: str = "defences") -> Plot | None:
    """Robust accuracy vs eps per model: adaptive worst case solid, naive dashed, one colour per model, 95% bands."""
    d = defences_frame(nva)
    d = d[d["eps"].map(math.isfinite)]
    if not len(d):
        return None
    norms = list(dict.fromkeys(d["norm"]))
    models = list(dict.fromkeys(d["model"]))
    colors = _colors(models)
    acc = dict(zip(clean["model"], clean["clean_accuracy"], strict=True)) if len(clean) else {}
    fig = Figure(figsize=(6.4 * len(norms), 4.6), layout="constrained")
    axes = fig.subplots(1, len(norms), squeeze=False)[0]
    for ax, norm in zip(axes, norms, strict=True):
        for model in models:
            g = d[(d["norm"] == norm) & (d["model"] == model)].sort_values("eps")
            if not len(g):
                continue
            x = g["eps"].to_numpy()
            label = f"{model} (clean {pct(acc[model])})" if model in acc else model
            for group, style in (("adaptive", "-"), ("naive", "--")):
                y = 100 * g[group].to_numpy()
                ax.plot(x, y, style, marker="o" if group == "adaptive" else "s", color=colors[model], label=f"{label}, {group}")
                ax.fill_between(x, 100 * g[f"{group}_lo"].to_numpy(), 100 * g[f"{group}_hi"].to_numpy(), color=colors[model], alpha=0.12)
        ax.set_xlabel(eps_axis_label(norm))
        ax.set_ylabel("worst-case robust accuracy (% of samples)")
        ax.set_ylim(-2, 102)
        ax.set_xticks(np.array(sorted(set(d.loc[d["norm"] == norm, "eps"]))))
        ax.set_title(norm_name(norm))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    title = f"{suite}: defences, naive vs adaptive robust accuracy"
    caption = (
        "Per-sample worst-case robust accuracy under the adaptive attacks (solid) and the naive ones (dashed), one "
        "colour per model, shaded 95% Wilson intervals; on the samples both groups attacked, at each eps where the naive "
        "group has an iterative attack. Where a model's dashed line sits far above its solid one, its robustness is "
        "an illusion of masked gradients; a real defence keeps both high."
    )
    return save_plot(fig, out_dir, name, title, caption)


def glance_markdown(run_dir: Path) -> str:
    """The glance table of a run folder as Markdown, from the tables ``bench report`` wrote; "" when they are absent.

    For the CI job summary, which must open with the same answer as the report.
    """
    from bench.results.tables import RunTables

    names = ("summary", "clean", "naive_vs_adaptive", "flags")
    if not all((run_dir / f"{n}.csv").is_file() for n in names):
        return ""
    summary, clean, nva, flags = (pd.read_csv(run_dir / f"{n}.csv", keep_default_na=False, na_values=[""]) for n in names)
    flags = flags.fillna("")
    for group in ("naive", "adaptive"):
        if f"n_{group}_robust" not in nva:  # a table written before the counts were kept beside the rates
            nva[f"n_{group}_robust"] = [count_of(v, n) for v, n in zip(nva[f"{group}_robust_accuracy"], nva["n_samples"], strict=True)]
    t = RunTables(summary, clean, nva, pd.DataFrame(), flags, pd.DataFrame())
    frame = glance_frame(t, read_claims(RunFolder(run_dir).manifest.get("spec")))
    if not len(frame):
        return ""
    return "### At a glance\n\n" + markdown_table(frame)
