"""A leaderboard across run folders: one row per model, ranked by per-sample worst-case robust accuracy.

Rules, so that numbers are never compared across incompatible setups:

* **One table per comparable group**: the same dataset (the manifest's
  ``data.name``), the same evaluation set (``data.eval_fingerprint``) and the
  same attack set at the norm (``attack_set``: each attack's key, view,
  parameters, sample count and transfer source). Runs that differ in any of
  these are never ranked together; each group gets its own labelled table and eps.
* **One budget per table.** Every model of a table is read at the same eps of the
  chosen norm: the one given, or else the largest finite eps at which every
  ranked model was evaluated. When there is no such eps, or a model lacks the
  given one, ``build_leaderboards`` refuses with a ``BenchError`` naming the
  runs, instead of ranking numbers taken at different budgets.
* Models without any attack of the norm (e.g. teachers, which are not attacked)
  are not ranked.

**Ranks are honest about noise and trust.** A model's rank is 1 + the number of
models whose 95% Wilson interval lies entirely above its own, so models whose
intervals overlap share a rank (equal worst cases always do); rows are listed by
worst case, then clean accuracy. ``unreliable`` (RobustBench's column) is True
when a gradient-masking check *or* a sanity check of that model failed
(``bench.results.flags.model_verdicts``): its robust accuracy is then no evidence
of robustness, so it is listed below every reliable model, unranked, with
``why``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from bench.errors import BenchError
from bench.reporting.doc import ReportDoc, Section, Table, pct, pts
from bench.reporting.html import render_html
from bench.reporting.leaderboard.costs import COLUMNS as COST_COLUMNS
from bench.reporting.leaderboard.costs import (
    NOISY,
    PRECISION,
    CostOptions,
    add_costs,
    budget_text,
    noisy_latency_warning,
    sort_by_cost,
    within_cost_budget,
)
from bench.reporting.leaderboard.costs import display_columns as cost_display_columns
from bench.reporting.markdown import render_markdown
from bench.reporting.report.claims import CLAIM_COLUMNS, claim_cells, claim_columns, read_claims
from bench.reporting.report.defences import NAIVE_ADAPTIVE_COLUMNS, leaderboard_defences, naive_adaptive_columns
from bench.results.costs import read_costs
from bench.results.families import family_name
from bench.results.flags import model_verdicts
from bench.results.metrics import EPS_DIGITS, common_eps, covers, eps_key, naive_vs_adaptive, summarize, wilson, worst_case_at
from bench.results.records import CLEAN
from bench.results.run_folder import RunFolder
from bench.results.tables import run_checks
from bench.spec.schema import ClaimedSpec, ViewSpec, view_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunData:
    """What the leaderboard needs from one run folder."""

    run_dir: Path
    suite: str
    dataset: str
    finished: str
    spec_hash: str
    records: pd.DataFrame
    flags: pd.DataFrame
    eval_fingerprint: str = ""
    spec_attacks: tuple[dict[str, Any], ...] = ()
    costs: pd.DataFrame | None = None  # the run's cost table (bench.results.costs), None when not read
    claims: Mapping[str, ClaimedSpec] = field(default_factory=dict)  # model id -> what its paper reports (shown, never ranked)


@dataclass(frozen=True)
class Leaderboard:
    """The ranked rows of one comparable group: one dataset and evaluation set, one norm and eps, one attack set."""

    dataset: str
    norm: str
    eps: float
    frame: pd.DataFrame
    eval_fingerprint: str = ""
    attacks: tuple[str, ...] = ()


def _view(view: object) -> str:
    # The view's name as records write it; a view from another bench version that does not validate, as its JSON.
    if not isinstance(view, dict):
        return str(view)
    try:
        return view_name(ViewSpec.model_validate(view))
    except ValidationError:
        return json.dumps(view, sort_keys=True)


def attack_set(run: RunData, norm: str) -> tuple[str, ...]:
    """What a run's evaluation at ``norm`` consisted of: each attack's key, view, parameters, sample count and transfer source.

    Attack ids are names and do not count; two runs are ranked together only when
    these agree, so a model attacked with FGSM alone never outranks one attacked with C&W.
    """
    if run.spec_attacks:
        out = []
        for a in run.spec_attacks:
            if a.get("norm") != norm:
                continue
            view = a.get("view")
            view = _view(view)
            params = json.dumps(a.get("params") or {}, sort_keys=True)
            src = " transfer" if a.get("source") else ""
            n = f" n={a['n_samples']}" if a.get("n_samples") else ""
            out.append(f"{a.get('use')}[{view}]{src} {params}{n}")
        return tuple(sorted(set(out)))
    r = run.records
    g = r[(r["attack"] != CLEAN) & (r["norm"] == norm)]
    return tuple(sorted({f"{u}[{v}]{' transfer' if s else ''}" for u, v, s in zip(g["use"], g["view"], g["source"], strict=True)}))


def comparable_key(run: RunData, norm: str) -> tuple[str, str, tuple[str, ...]]:
    """What must agree for two runs to be ranked together at ``norm``: dataset, evaluation set and attack set."""
    return run.dataset, run.eval_fingerprint, attack_set(run, norm)


def load_run(run_dir: Path) -> RunData:
    """Read a run folder's records, manifest and flags (flags.csv, or the checks re-run when it is missing)."""
    run = RunFolder(run_dir)
    manifest = run.require_manifest("its dataset is unknown and it cannot be ranked")
    dataset = (manifest.get("data") or {}).get("name")
    if not dataset:
        raise BenchError(f"{run_dir}: {run_dir / 'manifest.json'} has no data.name, so its dataset is unknown and it cannot be ranked")
    records = run.records()
    flags = run.flags()
    if flags is None:
        flags = run_checks(records, summarize(records), run.diagnostics())
    spec_attacks = (manifest.get("spec") or {}).get("attacks") or []
    return RunData(
        run_dir,
        run.suite,
        str(dataset),
        str(manifest.get("finished") or manifest.get("started") or ""),
        str(manifest.get("spec_hash") or ""),
        records,
        flags,
        str((manifest.get("data") or {}).get("eval_fingerprint") or ""),
        tuple(a for a in spec_attacks if isinstance(a, dict)),
        read_costs(run_dir),
        read_claims(manifest.get("spec")),
    )


def _attacked(run: RunData, norm: str) -> dict[str, pd.DataFrame]:
    r = run.records
    g = r[(r["attack"] != CLEAN) & (r["norm"] == norm)]
    return {str(m): mg for m, mg in g.groupby("model", sort=False)}


def choose_eps(runs: list[RunData], norm: str, eps: float | None) -> float:
    """The eps every ranked model of these runs (one dataset) was evaluated at; BenchError when there is none.

    A given eps is accepted for a model when one of its attacks ran at exactly that
    budget or is a minimum-norm attack (which is judged within any budget). The
    default is the largest finite eps that every model has in its results.
    """
    groups: dict[str, pd.DataFrame] = {}
    for run in runs:
        for model, g in _attacked(run, norm).items():
            groups[f"{run.suite}/{model} ({run.run_dir})"] = g
    if not groups:
        raise BenchError(f"no run on dataset '{runs[0].dataset}' has {norm} attacks: {', '.join(str(r.run_dir) for r in runs)}")
    if eps is not None:
        missing = [who for who, g in groups.items() if not covers(g, eps)]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise BenchError(f"--eps {eps:g} ({norm}) was not evaluated for {', '.join(missing[:3])}{more}")
        return float(eps)
    sets = {who: set(g["eps"].astype(float)) for who, g in groups.items()}
    common = common_eps(sets.values(), finite_only=True)
    if common is None:
        seen = "; ".join(f"{who}: {', '.join(f'{e:g}' for e in sorted(s))}" for who, s in list(sets.items())[:4])
        raise BenchError(
            f"the runs on dataset '{runs[0].dataset}' share no finite {norm} eps, so they cannot be ranked together without --eps ({seen})"
        )
    return common


def _flag_counts(flags: pd.DataFrame, model: str) -> tuple[int, int, bool, str]:
    """Failed and warned checks, whether the model is unreliable, and why."""
    if not len(flags) or "verdict" not in flags:
        return 0, 0, False, ""
    f = flags[flags["model"].astype(str) == model]
    # The per-model "gradient-masking" summary row (category "verdict") repeats its checks: do not count it twice.
    checks = f[f["category"] != "verdict"] if "category" in f else f
    verdict = model_verdicts(f)
    unreliable, why = (bool(verdict["unreliable"].iloc[0]), str(verdict["why"].iloc[0])) if len(verdict) else (False, "")
    return int((checks["verdict"] == "fail").sum()), int((checks["verdict"] == "warn").sum()), unreliable, why


def count_column(robust: str) -> str:
    """The column with the sample count behind a family's ``robust_<family>`` column: ``n_<family>``.

    A family may run on fewer samples than the worst case (AutoAttack's ``n_samples``), so its number carries its own count.
    """
    return "n_" + robust.removeprefix("robust_")


def _row(run: RunData, model: str, g: pd.DataFrame, norm: str, eps: float) -> dict[str, object]:
    r = run.records
    c = r[(r["attack"] == CLEAN) & (r["model"] == model)]
    k, _, n = worst_case_at(g, eps)
    rate = k / n if n else math.nan
    lo, hi = wilson(k, n)
    row: dict[str, object] = {
        "model": model,
        "suite": run.suite,
        "dataset": run.dataset,
        "norm": norm,
        "eps": eps,
        "clean_accuracy": float((c["clean_pred"] == c["label"]).mean()) if len(c) else math.nan,
        "worst_case": rate,
        "worst_case_lo": lo,
        "worst_case_hi": hi,
        "n_samples": n,
        "attacks": ", ".join(dict.fromkeys(str(a) for a in g["attack"])),
    }
    families = g.assign(_family=[family_name(u, s) for u, s in zip(g["use"], g["source"], strict=True)])
    for fam, fg in families.groupby("_family", sort=False):
        fk, _, fn = worst_case_at(fg, eps)
        row[f"robust_{fam}"] = (fk / fn if fn else math.nan) if covers(fg, eps) else math.nan
        row[count_column(f"robust_{fam}")] = fn if covers(fg, eps) else math.nan
    nva = naive_vs_adaptive(r[r["model"] == model])
    hit = nva[(nva["norm"] == norm) & (nva["eps"].map(eps_key) == eps_key(eps))] if len(nva) else nva
    row["gap"] = float(hit["gap"].iloc[0]) if len(hit) else math.nan
    row.update(naive_adaptive_columns(hit))
    verdict = model_verdicts(run.flags[run.flags["model"].astype(str) == model]) if len(run.flags) else pd.DataFrame()
    row["masking"] = str(verdict["masking"].iloc[0]) if len(verdict) else "-"
    row["flags_fail"], row["flags_warn"], row["unreliable"], row["why"] = _flag_counts(run.flags, model)
    row.update(claim_columns(run.claims.get(model)))
    row.update({"date": run.finished, "spec_hash": run.spec_hash, "run_dir": str(run.run_dir)})
    return row


def rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Reliable models first, by worst case (then clean accuracy, model), ranked; unreliable ones below, unranked.

    A reliable model's rank is 1 + the number of reliable models whose interval
    (``worst_case_lo``, ``worst_case_hi``; the point value when absent) lies entirely
    above its own: models the sample size cannot tell apart share a rank. ``rank``
    is a nullable integer, <NA> for unreliable models.
    """
    if not len(frame):
        return frame.assign(rank=pd.Series(dtype="Int64"))
    flag = frame["unreliable"].astype(bool) if "unreliable" in frame else pd.Series(False, index=frame.index)
    ordered = frame.assign(_u=flag).sort_values(
        ["_u", "worst_case", "clean_accuracy", "model"], ascending=[True, False, False, True], kind="stable"
    )
    wc = ordered["worst_case"].round(EPS_DIGITS)
    lo = ordered["worst_case_lo"] if "worst_case_lo" in ordered else wc
    hi = ordered["worst_case_hi"] if "worst_case_hi" in ordered else wc
    reliable = ~ordered["_u"].to_numpy()
    ranks: list[object] = []
    prev = 1
    for i in range(len(ordered)):
        if not reliable[i]:
            ranks.append(pd.NA)
            continue
        above = int((lo.to_numpy()[reliable] > hi.iloc[i] + 1e-12).sum())
        # Never rank a row listed lower above one listed higher (intervals of unequal sample counts can cross).
        prev = max(prev, 1 + above)
        ranks.append(prev)
    return ordered.drop(columns="_u").assign(rank=pd.array(ranks, dtype="Int64")).reset_index(drop=True)


def build_leaderboards(
    runs: list[RunData], norm: str = "linf", eps: float | None = None, costs: CostOptions | None = None
) -> list[Leaderboard]:
    """One ranked leaderboard per comparable group, in the order the groups first appear.

    Runs are ranked together only when their dataset, evaluation set (fingerprint),
    threat model (norm, and the eps chosen for the group) and attack set agree;
    every other combination gets its own, labelled table.
    """
    groups: dict[tuple[str, str, tuple[str, ...]], list[RunData]] = {}
    seen: set[Path] = set()
    for run in runs:
        if run.run_dir.resolve() not in seen:
            seen.add(run.run_dir.resolve())
            groups.setdefault(comparable_key(run, norm), []).append(run)
    boards = []
    for (dataset, fingerprint, attacks), group in groups.items():
        if not any(_attacked(run, norm) for run in group):
            continue
        chosen = choose_eps(group, norm, eps)
        rows = [_row(run, model, g, norm, chosen) for run in group for model, g in _attacked(run, norm).items()]
        opts = costs or CostOptions()
        frame = within_cost_budget(add_costs(pd.DataFrame(rows), {str(r.run_dir): r.costs for r in group if r.costs is not None}), opts)
        if not len(frame):
            continue
        frame = sort_by_cost(rank(frame), opts.sort)
        warning = noisy_latency_warning(frame, opts)
        if warning:
            log.warning("%s: %s", dataset, warning)
        fams = [c for c in frame.columns if c.startswith("robust_")]
        fams += [count_column(c) for c in fams]
        lead = ["rank", "model", "suite", "dataset", "norm", "eps", "n_samples", "attacks", "clean_accuracy"]
        tail = [
            "worst_case",
            "worst_case_lo",
            "worst_case_hi",
            *CLAIM_COLUMNS,
            *NAIVE_ADAPTIVE_COLUMNS,
            "gap",
            "masking",
            "flags_fail",
            "flags_warn",
            "unreliable",
            "why",
            "date",
            "spec_hash",
        ]
        columns = [*lead, *fams, *tail, *COST_COLUMNS, NOISY, PRECISION, "run_dir"]
        boards.append(Leaderboard(dataset, norm, chosen, frame[columns], fingerprint, attacks))
    if not boards and costs is not None and costs.budgets():
        raise BenchError(f"no model fits the budget ({budget_text(costs)}) among {', '.join(str(r.run_dir) for r in runs)}")
    if not boards:
        raise BenchError(f"no run has {norm} attacks: {', '.join(str(r.run_dir) for r in runs)}")
    return boards


def display(board: Leaderboard) -> Table:
    """The human-readable table: percentages, the worst case with its Wilson interval, short hashes; unreliable rows flagged."""
    f = board.frame
    fams = [c for c in f.columns if c.startswith("robust_")]
    # Two run folders of the same suite (e.g. before and after a change) are told apart by their path.
    ambiguous = f.groupby("suite")["run_dir"].nunique() > 1
    runs = [f"{s} ({d})" if ambiguous[s] else s for s, d in zip(f["suite"], f["run_dir"], strict=True)]
    out = pd.DataFrame(
        {
            "rank": ["–" if pd.isna(r) else str(r) for r in f["rank"]],
            "model": f["model"],
            "suite": runs,
            "samples": [str(int(n)) for n in f["n_samples"]],
            "attacks": f["attacks"],
            "clean": [pct(v) for v in f["clean_accuracy"]],
            **{c.removeprefix("robust_"): [pct(v) for v in f[c]] for c in fams},
            "worst case": [
                f"{pct(v)} [{100 * lo:.1f}, {100 * hi:.1f}]"
                for v, lo, hi in zip(f["worst_case"], f["worst_case_lo"], f["worst_case_hi"], strict=True)
            ],
            # What the model's paper reports, beside the measured worst case; only when some model declares one.
            **({"claimed": claim_cells(f)} if f["claimed"].notna().any() else {}),
            "gap": [pts(v) for v in f["gap"]],
            **cost_display_columns(f),
            "flags": [f"{a} fail, {b} warn" for a, b in zip(f["flags_fail"], f["flags_warn"], strict=True)],
            "unreliable": [f"yes: {w}" if u else "no" for u, w in zip(f["unreliable"], f["why"], strict=True)],
            "date": f["date"],
            "spec": [str(h)[:12] for h in f["spec_hash"]],
        }
    )
    return Table(out, tuple("fail" if u else "" for u in f["unreliable"]))


def _doc(boards: list[Leaderboard]) -> ReportDoc:
    text = (
        "Ranked by per-sample worst-case robust accuracy over every attack of the norm (95% Wilson interval); "
        "a rank is 1 + the number of models whose interval lies entirely above this one's, so models whose intervals "
        "overlap share a rank. Family columns are the worst case within each attack family; `gap` is naive minus "
        "adaptive worst case. Cost columns: parameters, FLOPs per sample, measured batch-1 latency (compare it within one "
        "run's machine), training seconds including the teacher's. "
        "`unreliable` means a gradient-masking or a sanity check failed (see docs/flags.md): "
        "such models are listed last and not ranked (`–`), because their robust accuracy is no evidence of robustness."
    )
    count: dict[tuple[str, str], int] = {}
    for b in boards:
        count[(b.dataset, b.norm)] = count.get((b.dataset, b.norm), 0) + 1
    sections, seen = [], {}
    for b in boards:
        seen[(b.dataset, b.norm)] = seen.get((b.dataset, b.norm), 0) + 1
        group = f" (group {seen[(b.dataset, b.norm)]} of {count[(b.dataset, b.norm)]})" if count[(b.dataset, b.norm)] > 1 else ""
        where = f"Evaluation set {b.eval_fingerprint[:12] or 'unknown'}; attack set: {'; '.join(b.attacks) or 'none'}."
        if b.frame["claimed"].notna().any():
            where += (
                " `claimed` is what a model's own paper reports, at the budget it names: shown beside the measured worst "
                "case, never ranked."
            )
        if b.frame[NOISY].astype(bool).any():
            where += (
                " A latency marked (noisy) was measured on a busy machine (see the run's Cost section): do not sort or "
                "filter on it before `bench run --force` measures it again."
            )
        sections.append(
            Section(f"{b.dataset}: {b.norm} eps {b.eps:g}{group}", f"{text} {where}", (display(b), leaderboard_defences(b.frame)))
        )
    subtitle = f"{sum(len(b.frame) for b in boards)} models in {len(boards)} group(s); models in different groups are never ranked together"
    if any(n > 1 for n in count.values()):
        subtitle += " (they differ in evaluation set or attack set)"
    return ReportDoc("bench leaderboard", subtitle, tuple(sections))


def render(boards: list[Leaderboard], fmt: str) -> str:
    """``md``, ``html`` (self-contained) or ``csv`` (all tables, with ``dataset``, ``norm``, ``eps`` and ``group`` columns)."""
    if fmt == "csv":
        frames = [b.frame.assign(group=i + 1, eval_fingerprint=b.eval_fingerprint) for i, b in enumerate(boards)]
        return pd.concat(frames, ignore_index=True).to_csv(index=False, float_format="%.6g") if frames else ""
    if fmt == "html":
        return render_html(_doc(boards))
    if fmt == "md":
        return render_markdown(_doc(boards))
    raise ValueError(f"unknown format {fmt!r}")
