"""What each model costs, in the report: the Cost section's table and the accuracy-vs-size figure.

The figure puts every model at its parameter count (log scale) twice: its clean
accuracy on the left, its adaptive worst-case robust accuracy on the right, one
marker per model, each student joined to its teacher by a thin line. A student
that keeps its teacher's clean accuracy at a fraction of its size is distillation
compressing; a T=100 student whose adaptive robust accuracy is no better than the
hard-label baseline of its size is distillation buying no real robustness.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from bench.reporting.doc import Plot, Section, Table
from bench.reporting.figures import eps_text, save_plot
from bench.results.costs import accuracy_vs_cost, run_training_seconds

# Marker and colour by role, so size, kind and temperature read at a glance.
ROLES = {
    "baseline": ("s", "#636363", "baseline (hard labels)"),
    "teacher": ("*", "#000000", "teacher"),
    "student-t1": ("o", "#3182bd", "student, T=1"),
    "student-hot": ("^", "#de2d26", "student, T>1"),
    "external": ("D", "#756bb1", "external"),
}

LABEL_OFFSETS = {"student-t1": (-7, 5, "right"), "student-hot": (7, -11, "left"), "baseline": (7, 5, "left"), "teacher": (7, 7, "left")}


def role(kind: str, temperature: float) -> str:
    """The legend entry a model belongs to."""
    if kind == "student":
        return "student-t1" if temperature == 1 else "student-hot"
    return kind if kind in ROLES else "external"


def _count(v: float) -> str:
    return "–" if math.isnan(v) else f"{int(v):,}"


def _bytes(v: float) -> str:
    if math.isnan(v):
        return "–"
    return f"{v / 1e6:.2f} MB" if v >= 1e6 else f"{v / 1e3:.1f} kB"


def _flops(v: float) -> str:
    if math.isnan(v):
        return "–"
    return f"{v / 1e9:.3g} G" if v >= 1e9 else f"{v / 1e6:.3g} M" if v >= 1e6 else f"{v / 1e3:.3g} k"


def _ms(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.3g} ms"


def _s(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1f} s"


def _n(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:g}"


def cost_section(costs: pd.DataFrame) -> Section:
    """The Cost section: one row per model, and what was measured how."""
    if not len(costs):
        return Section("Cost", "No cost measurements in this run folder (costs/): it was run before bench measured costs.")
    batch = int(costs["large_batch"].dropna().iloc[0]) if costs["large_batch"].notna().any() else 0
    frame = pd.DataFrame(
        {
            "model": costs["model"],
            "arch": costs["arch"],
            "kind": costs["kind"],
            "T": [_n(t) for t in costs["temperature"]],
            "params": [_count(v) for v in costs["params"]],
            "checkpoint": [_bytes(v) for v in costs["checkpoint_bytes"]],
            "FLOPs/sample": [_flops(v) for v in costs["flops_per_sample"]],
            "latency, batch 1": [_ms(v) for v in costs["latency_batch1_ms"]],
            f"latency, batch {batch}": [
                "–" if math.isnan(b) else f"{_ms(b)} ({_ms(p)}/sample)"
                for b, p in zip(costs["latency_large_ms"], costs["latency_large_per_sample_ms"], strict=True)
            ],
            "threads": [_n(v) for v in costs["threads"]],
            "device": costs["device"],
            "train": [_s(v) for v in costs["train_seconds"]],
            "epochs": [_n(v) for v in costs["epochs"]],
            "train incl. teachers": [_s(v) for v in costs["total_train_seconds"]],
            "epochs incl. teachers": [_n(v) for v in costs["total_epochs"]],
            "measured at": costs["measured_at"],
        }
    )
    total = run_training_seconds(costs)
    text = (
        "Parameters, checkpoint bytes (the state dict as the model store writes it) and FLOPs per sample are properties "
        "of the network; FLOPs are counted by torch's `torch.utils.flop_counter.FlopCounterMode` on one forward pass "
        "of one sample (matrix products and convolutions, 2 per multiply-add; ReLU and pooling are not counted). "
        "Latency is measured, not estimated: the median wall time of timed forward passes (50 at batch 1, 10 at the "
        "large batch, after 3 warm-up passes) on the device and with the threads shown, at the time shown. It depends "
        "on the machine and on what else ran on it then, so compare latencies within one run; a re-run reuses the "
        "measurement it finds for the same weights, device and threads (`bench run --force` measures again). "
        "Training seconds and epochs were measured when each model was trained and are kept with it in the model "
        "store, so a model reused from the store shows the cost of its original training. `incl. teachers` adds "
        "the training of the model's teacher chain, each teacher once. "
        + (
            f"The whole run's training, every model counted once (a shared teacher too): {total:.1f} s."
            if not math.isnan(total)
            else "The whole run's training time is unknown (a model came from a checkpoint or a program file)."
        )
    )
    return Section("Cost", text, (Table(frame),))


def plot_cost(costs: pd.DataFrame, clean: pd.DataFrame, nva: pd.DataFrame, suite: str, out_dir: Path, name: str = "cost") -> Plot | None:
    """Clean accuracy and adaptive worst-case robust accuracy against parameters; None without cost measurements."""
    if not len(costs) or costs["params"].isna().all():
        return None
    frame, norm, eps = accuracy_vs_cost(costs, clean, nva)
    frame = frame[frame["params"].notna()]
    robust_title = f"adaptive worst case, {eps_text(eps, norm)}" if norm else "adaptive worst case (no naive-vs-adaptive rows)"
    panels = [("clean accuracy (whole test split)", "clean_accuracy"), (robust_title, "adaptive_robust_accuracy")]
    fig = Figure(figsize=(12.5, 5.0), layout="constrained")
    axes = fig.subplots(1, 2, squeeze=False)[0]
    where = {str(r.model): r for r in frame.itertuples()}
    for ax, (title, col) in zip(axes, panels, strict=True):
        ax.set_title(title)
        for r in frame.itertuples():
            teacher = where.get(str(r.teacher)) if r.teacher else None
            y, ty = getattr(r, col), getattr(teacher, col) if teacher is not None else math.nan
            if teacher is not None and not (math.isnan(y) or math.isnan(ty)):
                ax.plot([teacher.params, r.params], [100 * ty, 100 * y], color="#bdbdbd", lw=1, zorder=1, label=f"{r.teacher} -> {r.model}")
        for r in frame.itertuples():
            y = getattr(r, col)
            if math.isnan(y):
                continue
            kind = role(str(r.kind), float(r.temperature))
            marker, color, _ = ROLES[kind]
            ax.plot([r.params], [100 * y], marker=marker, color=color, ms=11 if marker == "*" else 8, ls="", zorder=3, label=str(r.model))
            # Models of one size share an x: their labels go to different sides by role so they do not print on each other.
            dx, dy, ha = LABEL_OFFSETS.get(kind, (6, 4, "left"))
            ax.annotate(str(r.model), (r.params, 100 * y), xytext=(dx, dy), textcoords="offset points", fontsize=7, ha=ha, color=color)
        if not frame[col].notna().any():
            ax.text(0.5, 0.5, "no model has this measurement", ha="center", va="center", transform=ax.transAxes)
        ax.set_xscale("log")
        ax.margins(x=0.12, y=0.08)  # room for the labels of the smallest and largest models
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide on a span of less than a decade
        if col == "adaptive_robust_accuracy" and frame[col].notna().any():
            # Near-zero robust accuracies would otherwise be blown up to fill the panel.
            ax.set_ylim(-2, max(10.0, 100 * float(frame[col].max()) * 1.15 + 2))
        ax.set_xlabel("parameters (log scale)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3, which="both")
    roles = dict.fromkeys(role(str(k), float(t)) for k, t in zip(frame["kind"], frame["temperature"], strict=True))
    handles = [Line2D([], [], marker=ROLES[k][0], color=ROLES[k][1], ls="", ms=8, label=ROLES[k][2]) for k in roles]
    handles.append(Line2D([], [], color="#bdbdbd", lw=1, label="student - its teacher"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    title = f"{suite}: accuracy against size"
    fig.suptitle(title)
    caption = (
        "One marker per model at its parameter count; each student is joined to its teacher. Left: clean accuracy on "
        "the whole test split. Right: per-sample worst-case robust accuracy under the adaptive attacks (margin PGD, "
        "C&W, PGD on logits/T), which masked gradients do not fool. A student left of its teacher at the same height "
        "is compression that works; a distilled student no higher on the right than the baseline of its size has "
        "bought no real robustness."
    )
    return save_plot(fig, out_dir, name, title, caption)
