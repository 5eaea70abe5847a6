"""A run's tables, figures and reports, drawn from its run folder's records alone.

``write_report(run_dir)`` is what ``bench run`` calls at the end and what
``bench report RUN_DIR`` calls to redraw everything without models or data. It
is a pure function of ``records/`` (plus ``manifest.json`` for titles and
provenance, ``diagnostics/`` for the masking checks, and the optional
``examples/`` images). It writes:

* ``summary.csv``, ``clean.csv``, ``naive_vs_adaptive.csv``, ``flags.csv``, ``seeds.csv``, ``costs.csv``;
* ``plots/*.png``, ``plots/*.svg`` and ``plots/*.pdf`` (TrueType fonts; byte-reproducible with ``SOURCE_DATE_EPOCH``);
* ``report.html`` (self-contained), ``report.md`` (figures by relative path) and
  ``summary.md`` (``report.md`` without the figures).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from bench.fsutil import atomic_write_text
from bench.reporting.doc import Plot, ReportDoc, Section, Table, display_frame, fmt, mean_std, pct, pct_ci, pts
from bench.reporting.figures.examples import plot_examples
from bench.reporting.figures.plots import FIGURE_FORMATS, plot_min_norm_cdf, plot_naive_vs_adaptive, plot_robust_accuracy, plot_temperature
from bench.reporting.figures.reuse import draw_or_reuse
from bench.reporting.html import render_html
from bench.reporting.markdown import render_markdown
from bench.reporting.report.audit import audit_flags, audit_sections
from bench.reporting.report.claims import claims_section, read_claims
from bench.reporting.report.costs import cost_section, plot_cost
from bench.reporting.report.defences import defences_section, glance_section, plot_defences
from bench.results.costs import read_costs
from bench.results.details import Details, read_details
from bench.results.examples import load_strongest
from bench.results.flags import model_verdicts
from bench.results.records import WORST
from bench.results.run_folder import RunFolder
from bench.results.seeds import temperature_sweep
from bench.results.tables import SUMMARY_COLUMNS, RunTables, compute_tables
from bench.spec.schema import ModelSpec

log = logging.getLogger(__name__)


def table_sections(t: RunTables) -> list[Section]:
    """The table sections shared by report.md, summary.md and report.html (headings are a contract)."""
    clean = display_frame(t.clean, ["model", "n_samples"]).assign(
        accuracy=[pct_ci(r.clean_accuracy, r.clean_accuracy_lo, r.clean_accuracy_hi) for r in t.clean.itertuples()]
    )
    s = t.summary
    attacks = display_frame(s, ["model", "attack", "view", "tag", "source", "norm", "eps", "n_samples"]).assign(
        robust=[pct_ci(r.robust_accuracy, r.robust_accuracy_lo, r.robust_accuracy_hi) for r in s.itertuples()],
        success=[
            pct_ci(r.attack_success_rate, r.attack_success_rate_lo, r.attack_success_rate_hi)
            if not math.isnan(r.attack_success_rate_lo)
            else pct(r.attack_success_rate)
            for r in s.itertuples()
        ],
        median_l2=[fmt(v) for v in s["median_l2"]],
    )
    nva = display_frame(t.nva, ["model", "norm", "eps", "n_samples"]).assign(
        naive=[pct(v) for v in t.nva["naive_robust_accuracy"]],
        adaptive=[pct(v) for v in t.nva["adaptive_robust_accuracy"]],
        gap=[pts(v) for v in t.nva["gap"]],
    )
    flag_cols = ["model", "attack", "check", "category", "verdict", "value", "threshold", "message"]
    verdicts = [str(v) for v in t.flags["verdict"]] if "verdict" in t.flags else []
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("fail", "warn", "pass")) if verdicts else "no checks ran"
    nva_text = (
        "Worst-case robust accuracy within each group, per sample, on the samples both groups attacked, at each eps "
        "where the naive group has an iterative attack (so the gap measures masking, not a weaker attack; "
        "docs/flags.md). The gap is the robustness illusion."
    )
    if not len(t.nva):
        nva_text += (
            " No row: no norm has an iterative naive attack (PGD) and an adaptive attack (margin PGD, C&W) at a shared eps. "
            "Add an adaptive attack of the naive attacks' norm at one of their eps, e.g. `bench.pgd_margin`; "
            "`bench validate` warns about this."
        )
    sections = [
        verdict_section(t.flags),
        Section("Clean accuracy", "Brackets are 95% Wilson intervals.", (Table(clean),)),
        Section(
            "Attacks",
            "Robust accuracy is over all samples; attack success rate over the samples classified correctly before "
            "the attack. Brackets are 95% Wilson intervals. `worst_case` is the per-sample worst case over every attack of "
            "that norm. eps ∞ is a minimum-norm attack without a budget.",
            # Folded: "At a glance" holds the answer, and the same numbers side by side per model.
            (Table(attacks, tuple("worst" if a == WORST else "" for a in s["attack"]), collapsed=f"Every attack row ({len(attacks)})"),),
        ),
        Section("Naive vs adaptive", nva_text, (Table(nva),)),
        Section(
            "Minimal perturbations (Papernot's robustness metric)",
            "Mean and median minimal perturbation over the correctly "
            "classified samples that each minimum-norm attack broke (`found` of `n_correct`).",
            (Table(display_frame(t.robust, list(t.robust.columns))),),
        ),
    ]
    if len(t.seeds):
        seeds = display_frame(t.seeds, ["model", "attack", "norm", "eps", "n_seeds", "seeds"]).assign(
            accuracy=[mean_std(m, sd) for m, sd in zip(t.seeds["accuracy_mean"], t.seeds["accuracy_std"], strict=True)],
            success=[mean_std(m, sd) for m, sd in zip(t.seeds["success_mean"], t.seeds["success_std"], strict=True)],
        )
        sections.append(
            Section(
                "Across seeds",
                "Mean ± sample standard deviation across the `-s<seed>` replicates of each model and "
                "attack; `accuracy` is robust accuracy (clean accuracy on `clean` rows).",
                (Table(seeds),),
            )
        )
    sections.append(
        Section(
            "Diagnostics",
            f"See docs/flags.md for what each check means and what to do. Verdicts: {counts}.",
            (Table(display_frame(t.flags, flag_cols), tuple(verdicts), collapsed=f"Every check ({len(verdicts)})"),),
        )
    )
    return sections


def verdict_section(flags: pd.DataFrame) -> Section:
    """Per model, one line: reliable or not, its masking verdict and its failed checks (see docs/flags.md)."""
    v = model_verdicts(flags)
    frame = pd.DataFrame(
        {
            "model": v["model"],
            "reliable": ["no" if u else "yes" for u in v["unreliable"]],
            "gradient masking": v["masking"],
            "failed checks": [w or "none" for w in v["why"]],
        }
    )
    text = (
        "A model is unreliable when a gradient-masking check failed (its robustness is likely an illusion) or a sanity "
        "check failed (the evaluation itself is broken, e.g. an unbounded attack that does not reach ~100%): its robust "
        "accuracy is then no evidence of robustness. See docs/flags.md."
    )
    return Section("Verdicts", text, (Table(frame, tuple("fail" if u else "" for u in v["unreliable"])),))


def provenance_section(manifest: dict[str, Any]) -> Section:
    """Versions, seeds, spec hash, data fingerprint, git commit and times, from the manifest."""
    if not manifest:
        return Section("Provenance", "No manifest.json in this run folder.")
    data = manifest.get("data") or {}
    cells = cell_provenance(manifest)
    computed = [str(c) for c in cells["computed at"] if c != "–"]
    items = [
        ("suite", manifest.get("suite")),
        ("status", manifest.get("status")),
        ("results computed", f"{min(computed)} to {max(computed)} (each cell's own time, below)" if computed else "not recorded"),
        ("this invocation started", manifest.get("started")),
        ("this invocation finished", manifest.get("finished")),
        ("spec hash", manifest.get("spec_hash")),
        ("seed", manifest.get("seed")),
        ("git commit", manifest.get("git_commit")),
        ("device of this invocation", manifest.get("device")),
        ("data", f"{data.get('name', '?')} ({data.get('source', '?')}), {data.get('n_train', '?')} train / {data.get('n_eval', '?')} eval"),
        ("plug-ins", plugin_origins(manifest)),
        ("data fingerprint", data.get("fingerprint")),
        ("train fingerprint", data.get("train_fingerprint")),
        ("eval fingerprint", data.get("eval_fingerprint")),
        ("failures", "; ".join(f"{f.get('cell')}: {f.get('error')}" for f in manifest.get("failures") or []) or "none"),
    ]
    kv = pd.DataFrame({"field": [k for k, _ in items], "value": ["–" if v is None else str(v) for _, v in items]})
    versions = manifest.get("versions") or {}
    vt = pd.DataFrame({"package": list(versions), "version": [str(v) for v in versions.values()]})
    spec = json.dumps(manifest.get("spec", {}), indent=2, sort_keys=True)
    text = (
        "From manifest.json. A cell reused from an earlier invocation keeps the time, host, device, threads and versions "
        "of the invocation that computed it; the package table is this invocation's."
    )
    return Section("Provenance", text, (Table(kv), Table(vt), Table(cells)), code=spec, code_title="resolved spec")


def plugin_origins(manifest: dict[str, Any]) -> str:
    """The registry keys the run used that bench does not ship, each with where it came from."""
    origins = manifest.get("origins") or {}
    found = [
        f"{key} ({origin})"
        for kind in ("datasets", "architectures", "attacks")
        for key, origin in (origins.get(kind) or {}).items()
        if origin != "bench"
    ]
    return "; ".join(found) or "none"


def cell_provenance(manifest: dict[str, Any]) -> pd.DataFrame:
    """One row per cell: how this invocation got it, and when, where and with which torch it was computed."""
    rows = []
    for name, entry in (manifest.get("cells") or {}).items():
        prov = (entry or {}).get("computed") or {}
        rows.append(
            {
                "cell": name,
                "origin": str(entry.get("origin", "–")),
                "computed at": str(prov.get("computed_at", "–")),
                "host": str(prov.get("host", "–")),
                "device": str(prov.get("device", "–")),
                "threads": str(prov.get("threads", "–")),
                "torch": str((prov.get("versions") or {}).get("torch", "–")),
                "seconds": str(prov.get("seconds", entry.get("seconds", "–"))),
            }
        )
    return pd.DataFrame(rows, columns=["cell", "origin", "computed at", "host", "device", "threads", "torch", "seconds"])


def draw_figures(
    run_dir: Path,
    records: pd.DataFrame,
    t: RunTables,
    manifest: dict[str, Any],
    suite: str,
    outputs: set[str] | None = None,
    costs: pd.DataFrame | None = None,
) -> tuple[list[Plot], list[str]]:
    """Draw every figure that applies; return the plots and one line per figure that was skipped.

    A skipped figure's old files are removed, so a redraw never leaves a stale figure behind.
    A figure the run's own data should have given (the examples of its attacks) is
    skipped with a warning, not silently.
    """
    out = run_dir / "plots"
    drawn: list[Plot] = []
    skipped: list[str] = []
    # (name, the function that draws it, what it is drawn from, why it may not apply)
    attempts: list[tuple[str, Callable[..., Plot | None], tuple[Any, ...], str]] = [
        ("defences", plot_defences, (t.nva, t.clean, suite), "no norm has both naive (iterative) and adaptive attacks at a common eps"),
        ("robust_accuracy_vs_eps", plot_robust_accuracy, (t.summary, suite), "no bounded attacks"),
        (
            "temperature",
            plot_temperature,
            (t.summary, t.clean, temperature_sweep(manifest.get("spec")), suite),
            "the suite has no temperature sweep with two or more attacked temperatures",
        ),
        ("min_l2_cdf", plot_min_norm_cdf, (records, suite), "no minimum-norm L2 attack"),
        ("naive_vs_adaptive", plot_naive_vs_adaptive, (t.nva, suite), "no norm has both naive and adaptive attacks at a common eps"),
        (
            "cost",
            plot_cost,
            (costs if costs is not None else read_costs(run_dir), t.clean, t.nva, suite),
            "no cost measurements (costs/) for this run's models",
        ),
        (
            "examples",
            plot_examples,
            (load_strongest(run_dir, t.summary, outputs), suite),
            "no examples/ images for this run's attack cells (a run folder copied without examples/, or no attack ran)",
        ),
    ]
    for name, draw, inputs, why in attempts:
        plot = draw_or_reuse(out, name, draw, *inputs)
        if plot is None:
            skipped.append(f"{name}: not drawn, {why}.")
            if name == "examples" and len(t.summary):
                log.warning("%s", skipped[-1])
            for ext in FIGURE_FORMATS:
                (out / f"{name}{ext}").unlink(missing_ok=True)
        else:
            drawn.append(plot)
    return drawn, skipped


def defended_models_section(spec: dict[str, Any] | None) -> Section | None:
    """The models behind input-transformation defences, and how randomized models were judged (None when there are none)."""
    try:
        models = [ModelSpec.model_validate(m) for m in (spec or {}).get("models", [])]
    except ValidationError:
        return None  # a manifest from another bench version: its spec is shown as it is, under Provenance
    defended = [m for m in models if m.defence or m.eval_draws > 1]
    if not defended:
        return None
    frame = pd.DataFrame(
        {
            "model": [m.id for m in defended],
            "defence": [" -> ".join(s.name for s in m.defence) or "none" for m in defended],
            "steps": [m.describe_defence() for m in defended],
            "judged by": [f"majority vote of {m.eval_draws} seeded draws" if m.eval_draws > 1 else "one pass" for m in defended],
        }
    )
    text = (
        "Each defence runs before the same stored network as the undefended model with the same spec (docs/obfuscated.md). "
        "How randomized models were judged: a model with eval_draws above 1 is judged, for clean accuracy, success and robust "
        "accuracy alike, by the majority vote of that many passes, seeded so that every run gives the same records; each "
        "record's draws_correct is the fraction of the passes that gave the label. Naive attacks differentiate the defence as "
        "implemented; views named bpda or eotN are BPDA and EOT."
    )
    return Section("Defended models", text, (Table(frame),))


def build_doc(
    suite: str,
    manifest: dict[str, Any],
    t: RunTables,
    plots: list[Plot],
    skipped: list[str],
    costs: pd.DataFrame | None = None,
    extra: tuple[Section, ...] = (),
) -> ReportDoc:
    """Assemble the report's sections; ``extra`` (the audit's) go after the tables."""
    data = manifest.get("data") or {}
    bits = [f"status {manifest.get('status', 'unknown')}"]
    if manifest.get("finished"):
        bits.append(f"finished {manifest['finished']}")
    if manifest.get("spec_hash"):
        bits.append(f"spec {str(manifest['spec_hash'])[:12]}")
    if data:
        bits.append(f"data {data.get('name', '?')} ({str(data.get('fingerprint', ''))[:12]}, {data.get('n_eval', '?')} eval samples)")
    # The answer first: the glance, then the defences table with its figure; every detail after them.
    defences = next((p for p in plots if p.name == "defences"), None)
    figures = Section("Figures", " ".join(skipped), plots=tuple(p for p in plots if p is not defences), figures_only=True)
    claims = read_claims(manifest.get("spec"))
    claimed = claims_section(t.summary, claims)
    head = (glance_section(t, claims), *((claimed,) if claimed else ()), defences_section(t, defences))
    # Only a run that measured costs gets the section (runs from before bench measured them have no costs/).
    cost = (cost_section(costs),) if costs is not None and len(costs) else ()
    defended = defended_models_section(manifest.get("spec"))
    sections = (*head, *table_sections(t), *((defended,) if defended else ()), *extra, *cost, figures, provenance_section(manifest))
    return ReportDoc(f"bench report: {suite}", "; ".join(bits), sections)


def read_tables(run: RunFolder) -> tuple[pd.DataFrame, list[Details], RunTables]:
    """A run folder's records, attack details and tables (the audit's checks included): what every report of it reads."""
    records = run.records()
    details = read_details(run.path, run.outputs)
    return records, details, audit_flags(compute_tables(records, run.diagnostics(), run.manifest.get("spec"), details), run.path)


def write_report(run_dir: Path) -> pd.DataFrame:
    """Redraw every table, figure and report of a run folder from its records; return the summary."""
    run = RunFolder(run_dir)
    manifest, suite = run.manifest, run.suite
    records, details, t = read_tables(run)
    summary = t.summary[SUMMARY_COLUMNS]
    for name, frame in [("summary", summary), ("clean", t.clean), ("naive_vs_adaptive", t.nva), ("flags", t.flags), ("seeds", t.seeds)]:
        atomic_write_text(run_dir / f"{name}.csv", frame.to_csv(index=False, float_format="%.6g"))
    costs = read_costs(run_dir)
    atomic_write_text(run_dir / "costs.csv", costs.to_csv(index=False, float_format="%.6g"))
    plots, skipped = draw_figures(run_dir, records, t, manifest, suite, run.outputs, costs)
    audit, audit_plots = audit_sections(records, details, run_dir, suite)
    plots += audit_plots
    for line in skipped:
        if not line.startswith("examples:") or not len(t.summary):
            log.info("%s", line)
    doc = build_doc(suite, manifest, t, plots, skipped, costs, tuple(audit))
    atomic_write_text(run_dir / "summary.md", render_markdown(doc, figures=False, title=f"bench summary: {suite}"))
    atomic_write_text(run_dir / "report.md", render_markdown(doc))
    atomic_write_text(run_dir / "report.html", render_html(doc))
    return summary
