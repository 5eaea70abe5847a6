"""A model's page: where it stands, what it claims, how it was built and attacked, every check, and where it came from.

Everything comes from the run folder: the leaderboard rows (with the columns the
index folds away), the resolved spec in the manifest (architecture, training recipe,
teacher chain, attack parameters, seeds), the records (sample counts, the defences
table and figure), the checks, and the cells' provenance (times, hosts, versions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.reporting.doc import Table, display_frame, pct, pct_ci, pts
from bench.reporting.figures.plots import norm_name
from bench.reporting.html import html_table
from bench.reporting.leaderboard.board import Leaderboard, display
from bench.reporting.report.defences import defences_frame, plot_defences
from bench.reporting.report.run_report import cell_provenance, plugin_origins
from bench.reporting.site.pages import esc, kv, link, page
from bench.reporting.site.runs import SiteRun
from bench.results.metrics import covers, naive_vs_adaptive, wilson, worst_case_at
from bench.results.records import CLEAN

CHECK_COLUMNS = ["attack", "check", "category", "verdict", "value", "threshold", "message"]


@dataclass(frozen=True)
class ModelFiles:
    """Where a model's page finds its run's files, relative to the page (empty when absent)."""

    report: str
    records: str
    figure: str


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def _value(v: object) -> str:
    # Nested spec values (an adversarial-training block, a defence list) as compact JSON, the way the suite spells them.
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return "–" if v is None else str(v)


def standing(boards: list[Leaderboard], run: SiteRun, model: str) -> str:
    """Each table the model has a row in, every leaderboard column of that row (the index shows only some)."""
    parts = []
    for b in boards:
        hit = (b.frame["run_dir"].astype(str) == str(run.data.run_dir)) & (b.frame["model"].astype(str) == model)
        if not hit.any():
            continue
        row = display(b).frame[hit.to_numpy()].iloc[0]
        items = [(str(k), v) for k, v in row.items()]
        parts.append(f"<h3>{esc(f'{b.dataset}: {norm_name(b.norm)} eps {b.eps:g}')}</h3>{kv(items)}")
    return "".join(parts) or '<p class="none">Not in any ranked table (not attacked at a ranked norm and budget).</p>'


def claim_text(run: SiteRun, model: str) -> str:
    """The claim beside what bench measured at the claim's own norm and eps."""
    c = run.claim(model)
    if c is None:
        return '<p class="none">The model\'s spec declares no claimed number.</p>'
    r = run.data.records
    g = r[(r["model"] == model) & (r["attack"] != CLEAN) & (r["norm"] == c.norm)]
    if len(g) and covers(g, c.eps):
        k, _, n = worst_case_at(g, c.eps)
        lo, hi = wilson(k, n)
        measured = f"measured worst case at the same budget: {pct_ci(k / n, lo, hi)} over {n} samples"
        if k / n < c.robust_accuracy and hi < c.robust_accuracy:
            measured += f", {pts(k / n - c.robust_accuracy)} below the claim and outside the interval"
    else:
        measured = "bench did not attack this model at that norm and budget"
    source = f" ({c.source})" if c.source else ""
    return (
        f'<p class="claim">Claimed: <b>{esc(pct(c.robust_accuracy))}</b> robust accuracy at {esc(norm_name(c.norm))} '
        f"eps {esc(f'{c.eps:g}')}{esc(source)}; {esc(measured)}.</p>"
    )


def _teacher_chain(run: SiteRun, model: str) -> list[str]:
    chain, seen = [], {model}
    teacher = run.spec_models.get(model, {}).get("teacher")
    while teacher and str(teacher) not in seen:
        chain.append(str(teacher))
        seen.add(str(teacher))
        teacher = run.spec_models.get(str(teacher), {}).get("teacher")
    return chain


def _digest(run: SiteRun, model: str) -> str:
    cell = (run.manifest.get("cells") or {}).get(f"train {model}") or {}
    return str(cell.get("weights") or "")


def recipe(run: SiteRun, model: str) -> str:
    """The architecture, the training recipe and checkpoint digest, and each teacher's up the chain."""
    spec = run.spec_models.get(model)
    if spec is None:
        return '<p class="none">The manifest has no spec for this model.</p>'
    suite_seed = (run.manifest.get("spec") or {}).get("seed")
    parts = []
    for who in [model, *_teacher_chain(run, model)]:
        m = run.spec_models.get(who, {})
        seed = m.get("seed") if m.get("seed") is not None else suite_seed
        items: list[tuple[str, object]] = [(k, _value(v)) for k, v in m.items() if k not in ("id", "train", "claimed", "seed")]
        attacked = " (each attack's seed is drawn from it and the attack's id)" if who == model else ""
        items += [("seed", f"{seed}{attacked}")]
        items += [("checkpoint digest (sha256 of the weights)", _digest(run, who))]
        items += [(f"train.{k}", _value(v)) for k, v in (m.get("train") or {}).items()]
        title = "This model" if who == model else f"Its teacher {who}"
        parts.append(f"<h3>{esc(title)}</h3>{kv(items)}")
    chain = " ← ".join([model, *_teacher_chain(run, model)])
    return f"<p>Teacher chain: <code>{esc(chain)}</code>.</p>" + "".join(parts)


def attacks_table(run: SiteRun, model: str) -> str:
    """The attacks the spec runs on this model, every parameter, and how many samples each attacked."""
    r = run.data.records
    mine = r[(r["model"] == model) & (r["attack"] != CLEAN)]
    rows = []
    for a in (run.manifest.get("spec") or {}).get("attacks") or []:
        if not isinstance(a, dict) or (a.get("models") and model not in a["models"]):
            continue
        done = mine[mine["attack"] == a.get("id")]
        rows.append(
            {
                "attack": str(a.get("id")),
                "use": str(a.get("use")),
                "view": _value(a.get("view")),
                "tag": _value(a.get("tag")),
                "source": _value(a.get("source")),
                "norm": _value(a.get("norm")),
                "eps": ", ".join(f"{e:g}" for e in a.get("eps") or []) or "unbounded",
                "params": _value(a.get("params") or {}),
                "n_samples (spec)": _value(a.get("n_samples") or "all"),
                "samples attacked": str(done["sample"].nunique()) if len(done) else "not run",
                "batch_size": _value(a.get("batch_size")),
            }
        )
    if not rows:
        return '<p class="none">No attack of the spec applies to this model.</p>'
    return html_table(Table(pd.DataFrame(rows)))


def defences(run: SiteRun, model: str, plots_dir: Path, figure_name: str, figure_href: str) -> str:
    """Naive and adaptive worst cases at every eps, with the figure (drawn into the site's folder)."""
    r = run.data.records
    nva = naive_vs_adaptive(r[r["model"] == model])
    d = defences_frame(nva)
    if not len(d):
        return '<p class="none">No norm has an iterative naive attack and an adaptive attack at a shared eps for this model.</p>'
    frame = display_frame(d, ["norm", "eps", "n_samples"]).assign(
        naive=[pct_ci(v, lo, hi) for v, lo, hi in zip(d["naive"], d["naive_lo"], d["naive_hi"], strict=True)],
        adaptive=[pct_ci(v, lo, hi) for v, lo, hi in zip(d["adaptive"], d["adaptive_lo"], d["adaptive_hi"], strict=True)],
        gap=[pts(v) for v in d["gap"]],
    )
    c = r[(r["model"] == model) & (r["attack"] == CLEAN)]
    clean = pd.DataFrame({"model": [model], "clean_accuracy": [float((c["clean_pred"] == c["label"]).mean())]}) if len(c) else c
    plot = plot_defences(nva, clean if len(c) else pd.DataFrame(), run.data.suite, plots_dir, figure_name)
    fig = ""
    if plot is not None:
        fig = (
            f'<figure><img src="{esc(figure_href)}" alt="{esc(plot.title)}" style="max-width:100%">'
            f"<figcaption>{esc(plot.caption)}</figcaption></figure>"
        )
    return html_table(Table(frame)) + fig


def checks(run: SiteRun, model: str) -> str:
    """Every check of the model, its verdict and its message."""
    f = run.data.flags
    if not len(f) or "model" not in f:
        return '<p class="none">No checks ran.</p>'
    mine = f[f["model"].astype(str) == model]
    if not len(mine):
        return '<p class="none">No checks ran on this model.</p>'
    verdicts = tuple(str(v) for v in mine.get("verdict", pd.Series("", index=mine.index)))
    return html_table(Table(display_frame(mine, CHECK_COLUMNS), verdicts)) + "<p>What each check means: docs/flags.md.</p>"


def provenance(run: SiteRun, model: str) -> str:
    """The run's identity, then each cell that built or measured this model: when, where, with what."""
    m = run.manifest
    data = m.get("data") or {}
    items: list[tuple[str, object]] = [
        ("run folder", str(run.data.run_dir)),
        ("suite", run.data.suite),
        ("status", m.get("status")),
        ("finished", m.get("finished")),
        ("spec hash", m.get("spec_hash")),
        ("git commit", m.get("git_commit")),
        ("data", f"{data.get('name', '?')}, {data.get('n_eval', '?')} evaluated samples"),
        ("eval fingerprint", data.get("eval_fingerprint")),
        ("plug-ins", plugin_origins(m)),
    ]
    names = {f"train {x}" for x in [model, *_teacher_chain(run, model)]} | {f"evaluate {model}"}
    cells = cell_provenance(m)
    cells = cells[cells["cell"].map(lambda c: c in names or c.endswith(f" on {model}")).astype(bool)]
    versions: dict[str, set[str]] = {}
    for name, entry in (m.get("cells") or {}).items():
        if name in set(cells["cell"]):
            for pkg, ver in (((entry or {}).get("computed") or {}).get("versions") or {}).items():
                versions.setdefault(str(pkg), set()).add(str(ver))
    vt = pd.DataFrame({"package": list(versions), "versions": [", ".join(sorted(v)) for v in versions.values()]})
    hosts = ", ".join(sorted(set(cells["host"]))) or "–"
    return (
        kv([*items, ("hosts", hosts)])
        + "<h3>Versions of the cells behind this model</h3>"
        + html_table(Table(vt))
        + f"<h3>Cells ({len(cells)})</h3>"
        + html_table(Table(cells))
    )


def model_page(run: SiteRun, model: str, boards: list[Leaderboard], files: ModelFiles, plots_dir: Path, figure_name: str) -> str:
    """The whole page of one model of one run."""
    links = [link(files.report, "the run's report") if files.report else "", link(files.records, "per-sample records (CSV)")]
    body = [
        f"<p>{' · '.join(x for x in links if x)}</p>",
        _section("Standing", standing(boards, run, model), "standing"),
        _section("Claimed vs measured", claim_text(run, model), "claimed"),
        _section("Architecture and training recipe", recipe(run, model), "recipe"),
        _section("Attacks", attacks_table(run, model), "attacks"),
        _section("Defences: naive vs adaptive", defences(run, model, plots_dir, figure_name, files.figure), "defences"),
        _section("Checks", checks(run, model), "checks"),
        _section("Provenance", provenance(run, model), "provenance"),
    ]
    subtitle = f"suite {run.data.suite}, dataset {run.data.dataset}, finished {run.data.finished or '–'}"
    return page(f"{model}", subtitle, "\n".join(body), home="../../index.html")
