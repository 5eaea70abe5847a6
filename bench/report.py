"""Tables and figures, drawn from a run folder's records alone.

``write_report(run_dir)`` is what ``bench run`` calls at the end and what
``bench report RUN_DIR`` calls to redraw everything without models or data.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from bench.cache import atomic_write_text  # noqa: E402
from bench.checks import run_checks  # noqa: E402
from bench.diagnostics import read_diagnostics  # noqa: E402
from bench.errors import BenchError  # noqa: E402
from bench.metrics import WORST, clean_accuracy, naive_vs_adaptive, robustness_metric, summarize  # noqa: E402
from bench.records import read_records  # noqa: E402

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    "model", "attack", "use", "view", "tag", "source", "norm", "eps", "n_samples", "clean_accuracy",
    "robust_accuracy", "robust_accuracy_lo", "robust_accuracy_hi", "attack_success_rate",
    "attack_success_rate_lo", "attack_success_rate_hi", "median_l2", "median_linf", "median_l0",
    "n_projected", "seconds",
]


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞"
        return f"{v:.4g}"
    return str(v)


def markdown_table(frame: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    if not len(frame):
        return "_(none)_\n"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame[cols].iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _pct_ci(v: float, lo: float, hi: float) -> str:
    return "–" if math.isnan(v) else f"{100 * v:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def summary_markdown(suite: str, summary: pd.DataFrame, clean: pd.DataFrame, nva: pd.DataFrame, robust: pd.DataFrame, flags: pd.DataFrame) -> str:
    """The human-readable summary: clean accuracy, attacks, naive vs adaptive, verdicts."""
    out = [f"# bench summary: {suite}\n"]
    out.append("## Clean accuracy\n")
    c = clean.assign(accuracy=[_pct_ci(r.clean_accuracy, r.clean_accuracy_lo, r.clean_accuracy_hi) for r in clean.itertuples()])
    out.append(markdown_table(c, ["model", "n_samples", "accuracy"]))
    out.append("\n## Attacks\n\nRobust accuracy is over all samples; attack success rate over the samples classified "
               "correctly before the attack. Brackets are 95% Wilson intervals. `worst_case` is the per-sample worst case "
               "over every attack of that norm. eps ∞ is a minimum-norm attack without a budget.\n")
    if len(summary):
        s = summary.assign(
            robust=[_pct_ci(r.robust_accuracy, r.robust_accuracy_lo, r.robust_accuracy_hi) for r in summary.itertuples()],
            success=[_pct_ci(r.attack_success_rate, r.attack_success_rate_lo, r.attack_success_rate_hi) if not math.isnan(r.attack_success_rate_lo) else _fmt(r.attack_success_rate) for r in summary.itertuples()],
        )
        out.append(markdown_table(s, ["model", "attack", "view", "tag", "source", "norm", "eps", "n_samples", "robust", "success", "median_l2"]))
    else:
        out.append("_(no attacks)_\n")
    out.append("\n## Naive vs adaptive\n\nPer-sample worst case within each group; the gap is the robustness illusion.\n")
    out.append(markdown_table(nva))
    out.append("\n## Minimal perturbations (Papernot's robustness metric)\n\n")
    out.append(markdown_table(robust))
    out.append("\n## Diagnostics\n\nSee docs/flags.md for what each check means and what to do.\n")
    out.append(markdown_table(flags, ["model", "attack", "check", "category", "verdict", "value", "threshold", "message"]))
    return "\n".join(out)


def plot_robust_accuracy(summary: pd.DataFrame, suite: str, path: Path) -> None:
    """Robust accuracy against eps, one panel per norm, one line per model x attack; worst case dashed."""
    bounded = summary[summary["eps"].map(lambda e: not math.isinf(e))] if len(summary) else summary
    norms = list(dict.fromkeys(bounded["norm"])) if len(bounded) else []
    fig, axes = plt.subplots(1, max(len(norms), 1), figsize=(6 * max(len(norms), 1), 4.5), squeeze=False)
    for ax, norm in zip(axes[0], norms):
        g = bounded[bounded["norm"] == norm]
        for (model, attack), line in g.groupby(["model", "attack"], sort=False):
            line = line.sort_values("eps")
            style = {"linestyle": "--", "linewidth": 2.5} if attack == WORST else {"marker": "o"}
            ax.plot(line["eps"], 100 * line["robust_accuracy"], label=f"{model} / {attack}", **style)
        ax.set_xlabel(f"eps ({norm} norm, pixel scale [0,1])")
        ax.set_ylabel("robust accuracy (%)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    if not norms:
        axes[0][0].text(0.5, 0.5, "no bounded attacks", ha="center", va="center")
    fig.suptitle(f"{suite}: robust accuracy vs eps")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)


def write_report(run_dir: Path) -> pd.DataFrame:
    """Redraw every table and figure of a run folder from its records; return the summary."""
    manifest_path = run_dir / "manifest.json"
    if not (run_dir / "records").is_dir():
        raise BenchError(f"{run_dir}: not a bench run folder (no records/)")
    suite = json.loads(manifest_path.read_text()).get("suite", run_dir.name) if manifest_path.exists() else run_dir.name
    records = read_records(run_dir)
    summary = summarize(records)
    summary = summary.reindex(columns=SUMMARY_COLUMNS) if len(summary) else pd.DataFrame(columns=SUMMARY_COLUMNS)
    clean = clean_accuracy(records)
    nva = naive_vs_adaptive(records)
    robust = robustness_metric(records)
    flags = run_checks(records, summary, read_diagnostics(run_dir))
    atomic_write_text(run_dir / "summary.csv", summary.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(run_dir / "clean.csv", clean.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(run_dir / "naive_vs_adaptive.csv", nva.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(run_dir / "flags.csv", flags.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(run_dir / "summary.md", summary_markdown(suite, summary, clean, nva, robust, flags))
    plot_robust_accuracy(summary, suite, run_dir / "plots" / "robust_accuracy_vs_eps.png")
    return summary
