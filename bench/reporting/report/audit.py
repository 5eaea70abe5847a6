"""The audit part of a run report: AutoAttack's breakdown, the failure indicators, the binarization test, loss traces.

Each piece appears only when the run has what it needs.

``write_report`` calls ``audit_flags`` (extra flag rows) and ``audit_sections`` (sections and figures);
nothing else in the report depends on this module.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bench.reporting.doc import Plot, Section, Table, display_frame, pct
from bench.reporting.figures.plots import save_plot
from bench.reporting.figures.reuse import draw_or_reuse
from bench.results.audit import ATTACK_TESTS, BINARIZATION_PASS, autoattack_breakdown, indicator_table
from bench.results.details import Details
from bench.results.flags import FLAG_COLUMNS, flag_row
from bench.results.tables import RunTables

AA_SUBATTACKS = ("apgd-ce", "apgd-t", "fab-t", "square")  # bench.attacks.autoattack.SUBATTACKS, without importing the attack layer


def read_attack_tests(run_dir: Path) -> pd.DataFrame | None:
    """``attack_tests.csv`` (written by ``bench attack-test``), or None."""
    path = run_dir / ATTACK_TESTS
    return pd.read_csv(path, keep_default_na=False, na_values={"rate": ["nan", ""]}) if path.is_file() else None


def audit_flags(t: RunTables, run_dir: Path) -> RunTables:
    """The run's tables with one ``binarization-test`` flag row per tested model x attack (sanity)."""
    tests = read_attack_tests(run_dir)
    if tests is None or not len(tests):
        return t
    rows = []
    for r in tests.itertuples():
        rate = float(r.rate) if r.rate == r.rate else math.nan
        verdict = "fail" if r.verdict == "fail" else "pass"
        text = (
            f"found the guaranteed adversarial example on {r.n_found} of {r.n_feasible} feasible samples "
            f"({r.norm} eps {float(r.eps):g}, {r.n_samples} tested)"
        )
        if r.note:
            text = f"not run: {r.note}"
        rows.append(flag_row(r.model, r.attack, "binarization-test", "sanity", verdict, rate, f"fail<{BINARIZATION_PASS:g}", text))
    flags = pd.concat([t.flags, pd.DataFrame(rows, columns=FLAG_COLUMNS)], ignore_index=True)
    return replace(t, flags=flags)


def audit_sections(records: pd.DataFrame, details: list[Details], run_dir: Path, suite: str) -> tuple[list[Section], list[Plot]]:
    """The audit sections that apply to this run, and the loss-trace figure if it applies."""
    sections: list[Section] = []
    aa = autoattack_breakdown(records, details, AA_SUBATTACKS)
    if len(aa):
        shown = display_frame(aa, ["model", "attack", "eps", "n_samples"]).assign(
            **{c: [pct(v) for v in aa[c]] for c in aa.columns if c == "clean" or c.startswith("after ") or c == "robust (bench)"}
        )
        sections.append(
            Section(
                "AutoAttack by sub-attack",
                "Robust accuracy after each of AutoAttack's sub-attacks in turn (official code, pyautoattack 0.2.0; each runs "
                "on the samples the earlier ones left), as the attacked view judged it, then bench's own judgement on "
                "the deployed model. A sample broken only by Square, the gradient-free one, hints at masked gradients.",
                (Table(shown),),
            )
        )
    ind = indicator_table(records, details)
    if len(ind):
        g = ind.groupby(["model", "attack", "eps"], sort=False)
        summary = g.agg(n=("sample", "size"), silent=("silent", "mean"), incomplete=("incomplete", "mean"), unstable=("unstable", "mean"))
        summary = summary.reset_index()
        shown = display_frame(summary, ["model", "attack", "eps", "n"]).assign(
            **{c: [pct(v) for v in summary[c]] for c in ("silent", "incomplete", "unstable")}
        )
        sections.append(
            Section(
                "Indicators of attack failure",
                "From the traces bench's own attacks record (Pintor et al. 2022), over the samples correct before the "
                "attack: silent success (a point on the path fooled the model, the returned one does not), incomplete "
                "optimisation (failed, and the margin was still falling at the end), unstable predictions (the margin "
                "moves by >10% under noise of radius 0.01). Rules in docs/flags.md.",
                (Table(shown),),
            )
        )
    tests = read_attack_tests(run_dir)
    if tests is not None and len(tests):
        shown = display_frame(tests, ["model", "attack", "view", "norm", "eps", "n_samples", "n_feasible", "n_found"]).assign(
            rate=[pct(float(v)) if v == v else "–" for v in tests["rate"]], verdict=list(tests["verdict"]), note=list(tests["note"])
        )
        sections.append(
            Section(
                "Attack unit tests (binarization)",
                "Zimmermann et al. 2022: the model's readout replaced by a binary one for which an adversarial example "
                "within eps is guaranteed; an attack passes when it finds it on >= 90% of the feasible samples. "
                "How bench's construction differs from the paper's: docs/flags.md.",
                (Table(shown, tuple("fail" if v == "fail" else "" for v in tests["verdict"])),),
            )
        )
    plot = draw_or_reuse(run_dir / "plots", "loss_traces", plot_loss_traces, details, suite)
    return sections, [plot] if plot is not None else []


def plot_loss_traces(details: list[Details], suite: str, out_dir: Path, name: str = "loss_traces") -> Plot | None:
    """Per model: the median (and quartiles) over samples of the normalised margin at each step, per traced fixed-budget attack.

    The margin ``Z_y - max_{i!=y} Z_i`` is divided by its size at the first step, so 1 is the start and
    below 0 is misclassified. A naive attack on a saturated softmax has no gradient and its line stays flat.
    """
    traced = [d for d in details if "margin_trace" in d.arrays and math.isfinite(d.eps)]
    if not traced:
        return None
    # Each attack at its largest budget.
    largest: dict[tuple[str, str], Details] = {}
    for d in traced:
        key = (d.model, d.attack)
        if key not in largest or d.eps > largest[key].eps:
            largest[key] = d
    models = list(dict.fromkeys(m for m, _ in largest))
    fig = Figure(figsize=(4.6 * len(models), 3.8), layout="constrained")
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, model in zip(axes, models, strict=True):
        for (m, attack), d in largest.items():
            if m != model:
                continue
            tr = d.arrays["margin_trace"].astype(np.float64)
            norm = tr / np.maximum(np.abs(tr[:, :1]), 1e-12)
            q1, med, q3 = np.nanpercentile(norm, [25, 50, 75], axis=0)
            steps = np.arange(1, norm.shape[1] + 1)
            (line,) = ax.plot(steps, med, label=f"{attack} (eps {d.eps:g})")
            ax.fill_between(steps, q1, q3, alpha=0.2, color=line.get_color())
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(model)
        ax.set_xlabel("attack step")
        ax.set_ylabel("margin / margin at step 1 (median, IQR)")
        ax.set_ylim(-1.5, 1.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    title = f"{suite}: loss traces of bench's traced attacks"
    caption = (
        "The logit margin (true class minus the strongest other; below 0 is misclassified) at every step, divided by its "
        "value at the first step: median over the attacked samples, with the interquartile band. On a saturated softmax the "
        "cross-entropy gradient is exactly zero, so a cross-entropy attack never moves and its line stays at 1."
    )
    return save_plot(fig, out_dir, name, title, caption)
