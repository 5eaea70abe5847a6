"""The site's index: one sortable, filterable table per comparable group, then the reported rows, notes and runs.

The groups, their eps, the ranks and the unreliable-never-ranked rule are the
leaderboard's own (``bench.reporting.leaderboard.board``); this module only lays
them out. Columns a reader compares across models stay on the index; the rest
(samples, attack list, families, gap, flag counts, dates, hashes) fold into each
model's page, so the table fits 1280 px without scrolling sideways.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from bench.reporting.doc import pct
from bench.reporting.figures.plots import norm_name
from bench.reporting.leaderboard.board import Leaderboard, count_column
from bench.reporting.leaderboard.costs import NOISY, display_columns
from bench.reporting.site.pages import cell, esc, link, page, safe_url, sub
from bench.reporting.site.reported import ReportedEntry
from bench.reporting.site.runs import SiteRun
from bench.results.metrics import eps_key

FAMILY_AUTOATTACK = "robust_autoattack"
LEAD = (
    "One table per dataset, threat model and budget. Click a header to sort, type below to filter, click a model for "
    "its recipe, attacks, checks and provenance."
)
INTRO = (
    "Models are ranked together only when their dataset, evaluation set and attack set (keys, views, parameters, sample "
    "counts) agree, as in <code>bench leaderboard</code>. <b>worst case</b> is the per-sample worst case over every attack "
    "of the norm, with its 95% Wilson interval; a rank is 1 + the number of models whose interval lies entirely above "
    "this one's, so models the sample size cannot tell apart share a rank. <b>naive</b> and <b>adaptive</b> are the worst "
    "cases within each group of attacks; a large gap with masking <b>fail</b> is robustness that only masked gradients "
    "buy. An <b>unreliable</b> model (a masking or sanity check failed) is listed, with why, below the others whatever "
    "the sort, and never ranked. <b>claimed</b> is what the model's spec says its paper reports (hover for the source). "
    'Rows marked <span class="badge">reported</span> are RobustBench entries: numbers someone else reported, listed '
    "apart and never ranked with the measured ones."
)


@dataclass(frozen=True)
class Column:
    """One index column: its header, what it means (the header's tooltip), and how a row becomes a cell."""

    header: str
    meaning: str
    render: Callable[[pd.Series], str]


def _rate(v: float, lo: float | None = None, hi: float | None = None) -> str:
    interval = sub(f"[{100 * lo:.1f}, {100 * hi:.1f}]") if lo is not None and hi is not None and not math.isnan(v) else ""
    return cell(esc(pct(v)) + interval, v, "num")


def _autoattack(r: pd.Series) -> str:
    """AutoAttack's robust accuracy, with its own sample count when it ran on fewer samples than the worst case."""
    v, n = r[FAMILY_AUTOATTACK], r.get(count_column(FAMILY_AUTOATTACK))
    fewer = not math.isnan(v) and n is not None and not pd.isna(n) and int(n) != int(r["n_samples"])
    return cell(esc(pct(v)) + (sub(f"on {int(n)} samples") if fewer else ""), v, "num")


def _columns(board: Leaderboard, runs: dict[str, SiteRun]) -> list[Column]:
    costs = display_columns(board.frame)

    def cost(name: str, raw: str) -> Callable[[pd.Series], str]:
        return lambda r: cell(esc(costs[name][int(r.name)]), float(r[raw]), "num")

    def model(r: pd.Series) -> str:
        run = runs[str(r["run_dir"])]
        badge = '<span class="badge unreliable">unreliable</span>' if r["unreliable"] else ""
        return cell(link(run.model_href(str(r["model"])), r["model"]) + badge + sub(r["suite"]))

    def reliable(r: pd.Series) -> str:
        return cell("no" + sub(r["why"])) if r["unreliable"] else cell("yes")

    def claimed(r: pd.Series) -> str:
        c = runs[str(r["run_dir"])].claim(str(r["model"]))
        if c is None:
            return cell("–", math.nan, "num")
        at = "" if (c.norm, eps_key(c.eps)) == (board.norm, eps_key(board.eps)) else sub(f"at {norm_name(c.norm)} {c.eps:g}")
        return f'<td class="num" data-v="{c.robust_accuracy!r}" title="{esc(c.source)}">{esc(pct(c.robust_accuracy))}{at}</td>'

    cols = [
        Column("rank", "1 + the models whose 95% interval lies entirely above; – when unreliable", lambda r: _rank(r["rank"])),
        Column("model", "the model (its page), and the suite it ran in", model),
        Column("clean", "clean accuracy on the whole test split", lambda r: _rate(r["clean_accuracy"])),
        Column(
            "worst case",
            "per-sample worst-case robust accuracy over every attack of the norm [95% interval]: what ranks",
            lambda r: _rate(r["worst_case"], r["worst_case_lo"], r["worst_case_hi"]),
        ),
        Column("naive", "worst case over the naive attacks", lambda r: _rate(r["naive"], r["naive_lo"], r["naive_hi"])),
        Column("adaptive", "worst case over the adaptive attacks", lambda r: _rate(r["adaptive"], r["adaptive_lo"], r["adaptive_hi"])),
    ]
    if FAMILY_AUTOATTACK in board.frame and board.frame[FAMILY_AUTOATTACK].notna().any():
        cols.append(Column("AutoAttack", "robust accuracy under AutoAttack (standard)", _autoattack))
    cols += [
        Column("masking", "the gradient-masking verdict", lambda r: cell(esc(r["masking"]))),
        Column("reliable", "no when a masking or sanity check failed, with which", reliable),
        Column("params", "parameters", cost("params", "params")),
        Column("FLOPs", "FLOPs per sample", cost("FLOPs", "flops_per_sample")),
        Column("latency", "measured batch-1 latency (compare within one machine)", cost("latency b1", "latency_batch1_ms")),
        Column("train", "training seconds, the teachers' included", cost("train", "train_seconds")),
    ]
    if board.frame["claimed"].notna().any():  # as in bench leaderboard: the column only where some model declares a claim
        cols.append(Column("claimed", "the robust accuracy the model's spec says its paper reports (hover: the source)", claimed))
    return cols


def _rank(value: object) -> str:
    return cell("–", math.nan, "num") if pd.isna(value) else cell(esc(value), float(value), "num")  # type: ignore[arg-type]


def board_table(board: Leaderboard, runs: dict[str, SiteRun], table_id: str) -> str:
    """A group's table: one row per model, in the leaderboard's order, unreliable rows pinned below."""
    cols = _columns(board, runs)
    head = "".join(f'<th title="{esc(c.meaning)}">{esc(c.header)}</th>' for c in cols)
    rows = []
    for _, r in board.frame.reset_index(drop=True).iterrows():
        pin = " data-pin" if r["unreliable"] else ""
        cls = ' class="fail"' if r["unreliable"] else ""
        rows.append(f"<tr{cls}{pin}>{''.join(c.render(r) for c in cols)}</tr>")
    return _table(table_id, head, rows)


def _table(table_id: str, head: str, rows: list[str]) -> str:
    return (
        f'<table class="board" id="{esc(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="count" id="{esc(table_id)}-count"></p>'
    )


def reported_table(entries: Sequence[ReportedEntry], table_id: str) -> str:
    """RobustBench entries, each marked reported: never ranked, and never in a measured table."""
    head = "".join(
        f'<th title="{esc(m)}">{esc(h)}</th>'
        for h, m in [
            ("model", "the entry's name, its paper and its footnote"),
            ("clean", "reported clean accuracy"),
            ("robust", "reported robust accuracy (autoattack_acc; the footnote says which attack)"),
            ("claimed", "the robust accuracy the paper itself reports (reported)"),
            ("reliable", "no when the entry is marked unreliable"),
            ("architecture", "architecture"),
            ("venue", "venue"),
            ("file", "the JSON file it was read from"),
        ]
    )
    rows = []
    for e in entries:
        url = safe_url(e.link)
        name = f'<a href="{esc(url)}">{esc(e.name)}</a>' if url else esc(e.name)
        badges = '<span class="badge">reported</span>' + ('<span class="badge unreliable">unreliable</span>' if e.unreliable else "")
        authors = sub(e.authors) if e.authors else ""
        note = sub(e.footnote) if e.footnote else ""
        cells = [
            cell(name + badges + authors + note),
            _rate(e.clean),
            _rate(e.robust),
            _rate(e.claimed),
            cell("no" if e.unreliable else "yes"),
            cell(esc(e.architecture or "–")),
            cell(esc(e.venue or "–")),
            cell(esc(e.path.name)),
        ]
        rows.append(f'<tr class="reported{" fail" if e.unreliable else ""}"{" data-pin" if e.unreliable else ""}>{"".join(cells)}</tr>')
    return _table(table_id, head, rows)


def _group_text(board: Leaderboard) -> str:
    noisy = bool(board.frame[NOISY].astype(bool).any()) if NOISY in board.frame else False
    warn = " A latency marked (noisy) was measured on a busy machine: do not compare it." if noisy else ""
    attacks = "".join(f"<li><code>{esc(a)}</code></li>" for a in board.attacks) or "<li>none</li>"
    return (
        f"<p>Evaluation set <code>{esc(board.eval_fingerprint[:12] or 'unknown')}</code>; every model read at "
        f"{esc(norm_name(board.norm))} eps {esc(f'{board.eps:g}')}.{esc(warn)}</p>"
        f"<details><summary>The attack set of this group ({len(board.attacks)})</summary><ul>{attacks}</ul></details>"
    )


def _where(dataset: str, norm: str, eps: float) -> str:
    return f"{dataset}: {norm_name(norm)} eps {eps:g}"


def index_page(
    title: str,
    boards: Sequence[Leaderboard],
    runs: Sequence[SiteRun],
    reported: Sequence[ReportedEntry],
    notes: Sequence[str],
) -> str:
    """The whole index page."""
    by_dir = {str(r.data.run_dir): r for r in runs}
    pending = list(reported)
    sections, toc = [], []
    count: dict[tuple[str, str, float], int] = {}
    for b in boards:
        count[(b.dataset, b.norm, eps_key(b.eps))] = count.get((b.dataset, b.norm, eps_key(b.eps)), 0) + 1
    seen: dict[tuple[str, str, float], int] = {}
    for i, b in enumerate(boards):
        where = (b.dataset, b.norm, eps_key(b.eps))
        seen[where] = seen.get(where, 0) + 1
        heading = _where(b.dataset, b.norm, b.eps) + (f" (group {seen[where]} of {count[where]})" if count[where] > 1 else "")
        body = [f'<section id="g{i + 1}"><h2>{esc(heading)}</h2>', _group_text(b), board_table(b, by_dir, f"t{i + 1}")]
        mine = [e for e in pending if (e.dataset, e.norm, eps_key(e.eps)) == where] if seen[where] == 1 else []
        if mine:
            pending = [e for e in pending if e not in mine]
            body += [f"<h3>Reported at this budget ({len(mine)}), not ranked</h3>", reported_table(mine, f"t{i + 1}r")]
        sections.append("".join(body) + "</section>")
        toc.append(f'<a href="#g{i + 1}">{esc(heading)}</a>')
    groups: dict[tuple[str, str, float], list[ReportedEntry]] = {}
    for e in pending:
        groups.setdefault((e.dataset, e.norm, eps_key(e.eps)), []).append(e)
    for j, ((dataset, norm, _eps), entries) in enumerate(groups.items()):
        heading = f"{dataset}: {norm_name(norm)} eps {entries[0].eps_text}: reported only"  # eps as the entry writes it
        sections.append(f'<section id="r{j + 1}"><h2>{esc(heading)}</h2>{reported_table(entries, f"r{j + 1}")}</section>')
        toc.append(f'<a href="#r{j + 1}">{esc(heading)}</a>')
    sections.append(_others(boards, runs))
    sections.append(_runs(runs, notes))
    n_models = sum(len(b.frame) for b in boards)
    subtitle = (
        f"{n_models} ranked rows from {len(runs)} run(s) in {len(boards)} group(s); {len(reported)} reported entr"
        f"{'y' if len(reported) == 1 else 'ies'}. Built from the records alone; works offline."
    )
    body = (
        f"<p>{LEAD}</p><details><summary>How to read these tables</summary><p>{INTRO}</p></details>"
        f'<nav>{" ".join(toc)} <a href="#other-models">Other models</a> <a href="#runs">Runs</a></nav>'
        '<p class="filter"><label>Filter rows: <input id="filter" type="search" placeholder="model, suite, verdict..."></label></p>'
        + "\n".join(sections)
    )
    return page(title, subtitle, body)


def _others(boards: Sequence[Leaderboard], runs: Sequence[SiteRun]) -> str:
    # Models with a page but no row (teachers, models without an attack at a ranked norm): still one click away.
    ranked = {(str(d), str(m)) for b in boards for d, m in zip(b.frame["run_dir"], b.frame["model"], strict=True)}
    items = [
        f"<li>{link(r.model_href(m), m)} ({esc(r.data.suite)})</li>"
        for r in runs
        for m in dict.fromkeys(str(x) for x in r.data.records["model"])
        if (str(r.data.run_dir), m) not in ranked
    ]
    listed = f"<ul>{''.join(items)}</ul>" if items else '<p class="none">(none)</p>'
    return f'<section id="other-models"><h2>Other models</h2><p>Models with records but no row above.</p>{listed}</section>'


def _runs(runs: Sequence[SiteRun], notes: Sequence[str]) -> str:
    items = []
    for r in runs:
        report = link(f"runs/{r.slug}/report.html", "report") if r.has_report else "no report.html (run <code>bench report</code> on it)"
        status = r.manifest.get("status", "unknown")
        items.append(
            f"<li><b>{esc(r.data.suite)}</b> ({esc(status)}, finished {esc(r.data.finished or '–')}, spec "
            f"<code>{esc(r.data.spec_hash[:12] or '–')}</code>): {report}</li>"
        )
    notes_html = "".join(f"<li>{esc(n)}</li>" for n in notes)
    more = f"<h3>Not shown</h3><ul>{notes_html}</ul>" if notes else ""
    return f'<section id="runs"><h2>Runs</h2><ul>{"".join(items)}</ul>{more}</section>'
