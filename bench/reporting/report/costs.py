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
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from bench.reporting.doc import Plot, Section, Table
from bench.reporting.figures.plots import eps_text, norm_name, save_plot
from bench.results.costs import accuracy_vs_cost, robust_column, run_training_seconds, starved_training

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
            "latency, batch 1": [
                _ms(v) + (" (noisy)" if n else "") for v, n in zip(costs["latency_batch1_ms"], costs["noisy"], strict=True)
            ],
            f"latency, batch {batch}": [
                "–" if math.isnan(b) else f"{_ms(b)} ({_ms(p)}/sample)"
                for b, p in zip(costs["latency_large_ms"], costs["latency_large_per_sample_ms"], strict=True)
            ],
            "threads": [_n(v) for v in costs["threads"]],
            "device": costs["device"],
            "train": [
                _s(v) + (" (bf16)" if p == "bf16" else "") for v, p in zip(costs["train_seconds"], costs["train_precision"], strict=True)
            ],
            "train CPU": [_s(v) for v in costs["train_cpu_seconds"]],
            "epochs": [_n(v) for v in costs["epochs"]],
            "train incl. teachers": [_s(v) for v in costs["total_train_seconds"]],
            "epochs incl. teachers": [_n(v) for v in costs["total_epochs"]],
            "measured at": costs["measured_at"],
            "noisy": [r or "" for r in costs["noisy_reason"]],
        }
    )
    total = run_training_seconds(costs)
    text = (
        "Parameters, checkpoint bytes (the state dict as the model store writes it) and FLOPs per sample are properties "
        "of the network; FLOPs are counted by torch's `torch.utils.flop_counter.FlopCounterMode` on one forward pass "
        "of one sample (matrix products and convolutions, 2 per multiply-add; ReLU and pooling are not counted). "
        "Latency is measured, not estimated: the fastest round's median wall time of timed forward passes (5 rounds, 50 "
        "passes at batch 1 and 10 at the large batch in all, after 3 warm-up passes) on the device and with the threads "
        "shown, at the time shown; `noisy` says why a latency cannot be trusted (rounds that disagree, a load average "
        "above the cores, a process suspended or starved), and `bench run --force` measures again. It depends "
        "on the machine and on what else ran on it then, so compare latencies within one run; a re-run reuses the "
        "measurement it finds for the same weights, device and threads (`bench run --force` measures again). "
        "Training seconds (wall) and epochs were measured when each model was trained and are kept with it in the model "
        "store, so a model reused from the store shows the cost of its original training. `train CPU` is that "
        "training's CPU time over all its threads: on N threads a busy training shows up to N times its wall time, "
        "and one that was paused or shared its cores shows well under it, so a slow row is told from a slow model. "
        "`incl. teachers` adds the training of the model's teacher chain, each teacher once. A model trained in bf16 "
        "mixed precision (`train.precision: bf16`) says so after its time; every other was trained in fp32. "
        + (
            f"The whole run's training, every model counted once (a shared teacher too): {total:.1f} s."
            if not math.isnan(total)
            else "The whole run's training time is unknown (a model came from a checkpoint or a program file)."
        )
    )
    starved = starved_training(costs)
    if starved:
        text += " Training times that are not the model's cost: " + "; ".join(f"{m}: {why}" for m, why in starved.items()) + "."
    return Section("Cost", text, (Table(frame),))


def _panel(ax: Axes, frame: pd.DataFrame, col: str, hollow: str | None) -> None:
    """One panel: a marker per model at (parameters, ``col``), students joined to their teacher; ``hollow``: a second, open marker."""
    rows = frame.to_dict("records")  # column names such as "adaptive@0.3" are not attribute names
    where = {str(r["model"]): r for r in rows}
    for r in rows:
        teacher = where.get(str(r["teacher"])) if r["teacher"] else None
        y, ty = r[col], (teacher[col] if teacher is not None else math.nan)
        if teacher is not None and not (math.isnan(y) or math.isnan(ty)):
            link = f"{r['teacher']} -> {r['model']}"
            ax.plot([teacher["params"], r["params"]], [100 * ty, 100 * y], color="#bdbdbd", lw=1, zorder=1, label=link)
    for r in rows:
        kind = role(str(r["kind"]), float(r["temperature"]))
        marker, color, _ = ROLES[kind]
        if hollow is not None and not math.isnan(r[hollow]):
            ax.plot([r["params"]], [100 * r[hollow]], marker=marker, mfc="none", color=color, ms=7, ls="", zorder=2, label=f"_{r['model']}")
        y = r[col]
        if math.isnan(y):
            continue
        ax.plot([r["params"]], [100 * y], marker=marker, color=color, ms=11 if marker == "*" else 8, ls="", zorder=3, label=str(r["model"]))
        # Models of one size share an x: their labels go to different sides by role so they do not print on each other.
        dx, dy, ha = LABEL_OFFSETS.get(kind, (6, 4, "left"))
        ax.annotate(str(r["model"]), (r["params"], 100 * y), xytext=(dx, dy), textcoords="offset points", fontsize=7, ha=ha, color=color)
    if not frame[col].notna().any():
        ax.text(0.5, 0.5, "no model has this measurement", ha="center", va="center", transform=ax.transAxes)
    ax.set_xscale("log")
    ax.margins(x=0.12, y=0.08)  # room for the labels of the smallest and largest models
    ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide on a span of less than a decade
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3, which="both")


def plot_cost(costs: pd.DataFrame, clean: pd.DataFrame, nva: pd.DataFrame, suite: str, out_dir: Path, name: str = "cost") -> Plot | None:
    """Clean accuracy, and worst-case robust accuracy at each compared eps, against parameters; None without cost measurements.

    Robust panels: the adaptive worst case (filled markers, joined to the teacher) and the
    naive one (open markers of the same model): the distance between the two is the
    robustness that only masked gradients show.
    """
    if not len(costs) or costs["params"].isna().all():
        return None
    frame, norm, eps_list = accuracy_vs_cost(costs, clean, nva)
    frame = frame[frame["params"].notna()]
    panels: list[tuple[str, str, str | None]] = [("clean accuracy (whole test split)", "clean_accuracy", None)]
    panels += [(f"worst case, {eps_text(e, norm)}", robust_column("adaptive", e), robust_column("naive", e)) for e in eps_list]
    ncols = 2 if len(panels) == 4 else min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(6.2 * ncols, 4.4 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    for ax, (title, col, hollow) in zip(axes, panels, strict=False):
        ax.set_title(title)
        _panel(ax, frame, col, hollow)
        if hollow is not None:
            ax.set_ylim(-4, 104)
    roles = dict.fromkeys(role(str(k), float(t)) for k, t in zip(frame["kind"], frame["temperature"], strict=True))
    handles = [Line2D([], [], marker=ROLES[k][0], color=ROLES[k][1], ls="", ms=8, label=ROLES[k][2]) for k in roles]
    handles.append(Line2D([], [], color="#bdbdbd", lw=1, label="student - its teacher"))
    if eps_list:
        handles.append(Line2D([], [], marker="o", mfc="none", color="#636363", ls="", ms=7, label="open: naive attacks' worst case"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=8)
    title = f"{suite}: accuracy against size"
    robust = (
        f" Other panels: per-sample worst-case robust accuracy ({norm_name(norm)}) under the adaptive attacks (filled; margin "
        "PGD, C&W, PGD on logits/T, which masked gradients do not fool) and under the naive attacks (open markers) at each eps "
        "both groups were compared at. A filled marker far below its open one is robustness only masked gradients show; a "
        "distilled student no higher than the hard-label baseline of its size has bought no real robustness."
        if eps_list
        else " No robust panel: no norm has naive and adaptive attacks at a common eps."
    )
    caption = (
        "One marker per model at its parameter count; each student is joined to its teacher. First panel: clean accuracy "
        "on the whole test split; a student left of its teacher at the same height is compression that works." + robust
    )
    return save_plot(fig, out_dir, name, title, caption)
