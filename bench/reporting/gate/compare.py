"""The robustness regression gate: baseline files and the comparison ``bench check`` makes.

A *baseline* is a run's metrics, each under a stable string id, with its
sample count and the direction in which it is better, plus the run's identity
(suite, spec hash, dataset fingerprints, threat models, bench version). Ids:

* ``clean_accuracy/<model>``
* ``robust_accuracy/<model>/<attack>/<norm>/<eps>`` (``attack`` may be ``worst_case``)
* ``attack_success_rate/<model>/<attack>/<norm>/<eps>``
* ``median_<norm>/<model>/<attack>/<norm>/inf`` for a minimum-norm attack's unbounded row

eps is formatted with ``:g`` (``inf`` for unbounded rows).

The regression rule. A rate (accuracy or success rate) regresses when it is
worse than its baseline by more than the tolerance (absolute) *and* lies outside
the baseline's 95% Wilson interval on the baseline's sample count, so a change
the sample size cannot resolve never fails the gate. Lower is worse for every
rate, success rates included: an attack that succeeds less often has become
weaker, and a weakened evaluation is exactly the failure that makes a model look
robust (gradient masking shows up as a falling success rate, not as a falling
robust accuracy). A median minimal norm has no interval: it regresses when it
grows by more than a relative tolerance, since a larger median means the attack
needs larger perturbations, i.e. it got weaker. ``changed`` is the mirror image:
a move beyond the tolerance in the direction the gate does not fail on.
Metrics that cannot be computed (no samples, no successes) are left out, so a
metric that stops being computable shows up as ``missing``.

Who gained. "Better" means different things to an attacker and a defender, so
every regressed or changed metric also carries a label from its own side:
robust accuracy says ``defence stronger``/``defence weaker``, a success rate or
a median norm ``attack stronger``/``attack weaker``, clean accuracy
``accuracy up``/``accuracy down``. ``CheckResult.attributions`` explains the
usual pairing: a robust accuracy that rose because the same attack got weaker.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.errors import BaselineError
from bench.reporting.gate import Tolerance
from bench.results.metrics import COUNT_COLUMNS, count_of, wilson
from bench.results.records import WORST
from bench.results.run_folder import RunFolder

FORMAT = 1
DECIMALS = 4
HIGHER = "higher_is_better"
LOWER = "lower_is_better"
RATES = ("clean_accuracy", "robust_accuracy", "attack_success_rate")
STATUSES = ("regressed", "missing", "changed", "new", "ok")
# Whose number each metric is, and what its moving up means for them.
SIDES = {"clean_accuracy": ("accuracy up", "accuracy down"), "robust_accuracy": ("defence stronger", "defence weaker")}
ATTACK_SIDE = ("attack stronger", "attack weaker")
SUMMARY_NEEDS = ("model", "attack", "norm", "eps", *COUNT_COLUMNS, "robust_accuracy", "attack_success_rate")
# Absorbs float noise when a delta equals the tolerance exactly.
SLACK = 1e-9


@dataclass(frozen=True)
class Metric:
    """One number of a run, with the sample count behind it."""

    value: float
    n: int
    direction: str
    k: int | None = None  # for a rate, the count behind it (value = k / n); None in baselines written before counts existed


@dataclass(frozen=True)
class RunIdentity:
    """What must match for two runs' metrics to be comparable."""

    suite: str
    spec_hash: str
    dataset: str
    fingerprint: str
    eval_fingerprint: str
    threat_models: tuple[str, ...]
    bench_version: str


@dataclass(frozen=True)
class Snapshot:
    """A run's identity and metrics: what a baseline file holds."""

    identity: RunIdentity
    metrics: dict[str, Metric]
    status: str = "complete"

    def to_json(self) -> str:
        """Sorted, rounded, one metric per key: stable under diff."""
        metrics = {key: {k: v for k, v in asdict(m).items() if v is not None} for key, m in self.metrics.items()}
        body = {"format": FORMAT, "run": asdict(self.identity), "metrics": metrics}
        body["run"]["threat_models"] = list(self.identity.threat_models)
        return json.dumps(body, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Comparison:
    """One metric of the baseline and/or the run, and its verdict."""

    metric: str
    baseline: Metric | None
    current: Metric | None
    status: str
    interval: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        """Who gained, for a regressed or changed metric (``attack weaker``, ``defence stronger``, ...); else empty."""
        if self.status not in ("regressed", "changed") or self.baseline is None or self.current is None:
            return ""
        up = self.current.value > self.baseline.value
        kind = self.metric.split("/", 1)[0]
        if kind in SIDES:
            return SIDES[kind][0 if up else 1]
        # A success rate rising, or a median minimal norm falling, means the attack got stronger.
        stronger = up if kind == "attack_success_rate" else not up
        return ATTACK_SIDE[0 if stronger else 1]


@dataclass(frozen=True)
class CheckResult:
    """Every comparison plus notes on the identities (version changes, allowed spec changes)."""

    comparisons: list[Comparison]
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many metrics have this status."""
        return sum(c.status == status for c in self.comparisons)

    @property
    def failed(self) -> bool:
        """Regressed and missing metrics fail the gate."""
        return any(c.status in ("regressed", "missing") for c in self.comparisons)

    def attributions(self) -> list[str]:
        """Robust accuracies that rose because the same attack got weaker: the attacker lost, the defence did not win."""
        weaker = {
            c.metric.split("/", 1)[1]
            for c in self.comparisons
            if c.metric.startswith("attack_success_rate/") and c.label == "attack weaker"
        }
        out = []
        for c in self.comparisons:
            rest = c.metric.split("/", 1)[1] if "/" in c.metric else ""
            if c.metric.startswith("robust_accuracy/") and c.label == "defence stronger" and rest in weaker:
                model, attack, norm, eps = rest.split("/")
                out.append(
                    f"{c.metric} rose because {attack} got weaker on {model} ({norm} eps {eps}: its success rate fell); "
                    "that is the attack failing, not evidence of a stronger defence"
                )
        return out


def metric_id(kind: str, model: str, attack: str | None = None, norm: str | None = None, eps: float | None = None) -> str:
    """``robust_accuracy/distilled/pgd/linf/0.3``; ``clean_accuracy/<model>`` without attack."""
    if attack is None:
        return f"{kind}/{model}"
    return f"{kind}/{model}/{attack}/{norm}/{eps:g}"


def _num(raw: str | None) -> float:
    try:
        return float(raw) if raw not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _count(raw: str | None) -> int:
    value = _num(raw)
    return int(value) if math.isfinite(value) else 0


def _add(metrics: dict[str, Metric], key: str, value: float, n: int, direction: str, k: int | None = None) -> None:
    if math.isfinite(value) and n > 0:
        metrics[key] = Metric(round(value, DECIMALS), n, direction, k)


def _read_csv(path: Path, run_dir: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.exists():
        raise BaselineError(f"{run_dir}: no {path.name}; run `bench report {run_dir}` to write it")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise BaselineError(f"{path}: lacks columns {', '.join(missing)}; run `bench report {run_dir}` to rewrite it")
        return list(reader)


def read_run(run_dir: Path) -> Snapshot:
    """The identity and metrics of a run folder, from manifest.json, summary.csv and clean.csv."""
    manifest = RunFolder(run_dir).require_manifest("its identity is unknown and it cannot be compared")
    data = manifest.get("data")
    if not isinstance(data, dict):
        raise BaselineError(f"{run_dir / 'manifest.json'}: not a readable run manifest (no 'data' mapping)")
    summary = _read_csv(run_dir / "summary.csv", run_dir, SUMMARY_NEEDS)
    clean = _read_csv(run_dir / "clean.csv", run_dir, ("model", "n_samples", "n_correct", "clean_accuracy"))
    metrics: dict[str, Metric] = {}
    for row in clean:
        _add(
            metrics,
            metric_id("clean_accuracy", row["model"]),
            _num(row["clean_accuracy"]),
            _count(row["n_samples"]),
            HIGHER,
            _count(row["n_correct"]),
        )
    for row in summary:
        model, attack, norm, eps = row["model"], row["attack"], row["norm"], _num(row["eps"])
        n = _count(row["n_samples"])
        # Success rates are over the samples classified correctly before the attack.
        n_correct = _count(row["n_correct"])
        success = _num(row["attack_success_rate"])
        _add(
            metrics,
            metric_id("robust_accuracy", model, attack, norm, eps),
            _num(row["robust_accuracy"]),
            n,
            HIGHER,
            _count(row["n_robust"]),
        )
        _add(metrics, metric_id("attack_success_rate", model, attack, norm, eps), success, n_correct, HIGHER, _count(row["n_success"]))
        if attack != WORST and math.isinf(eps):
            # Minimal perturbations of a minimum-norm attack, in its own norm, over the samples it broke.
            broken = _count(row["n_success"])
            _add(metrics, metric_id(f"median_{norm}", model, attack, norm, eps), _num(row.get(f"median_{norm}")), broken, LOWER)
    identity = RunIdentity(
        suite=str(manifest.get("suite", run_dir.name)),
        spec_hash=str(manifest.get("spec_hash", "")),
        dataset=str(data.get("name", "")),
        fingerprint=str(data.get("fingerprint", "")),
        eval_fingerprint=str(data.get("eval_fingerprint", "")),
        threat_models=tuple(sorted({row["norm"] for row in summary})),
        bench_version=str(manifest.get("versions", {}).get("bench", "")),
    )
    return Snapshot(identity, dict(sorted(metrics.items())), str(manifest.get("status", "complete")))


def load_baseline(path: Path) -> Snapshot:
    """Read a baseline file written by ``Snapshot.to_json``."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file; write one with `bench baseline RUN_DIR -o {path}`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not a readable baseline file ({type(exc).__name__})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        found = body.get("format") if isinstance(body, dict) else None
        raise BaselineError(f"{path}: unsupported baseline format {found!r} (this bench writes format {FORMAT})")
    try:
        run = dict(body["run"], threat_models=tuple(body["run"]["threat_models"]))
        identity = RunIdentity(**run)
        metrics = {
            key: Metric(float(m["value"]), int(m["n"]), str(m["direction"]), None if m.get("k") is None else int(m["k"]))
            for key, m in body["metrics"].items()
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"{path}: malformed baseline file ({type(exc).__name__}: {exc})") from None
    return Snapshot(identity, metrics)


def check_identity(baseline: RunIdentity, current: RunIdentity, allow_spec_change: bool = False) -> list[str]:
    """Refuse runs that cannot be compared (raises ``BaselineError``); return notes on harmless differences."""
    problems = []
    if baseline.dataset != current.dataset:
        problems.append(f"dataset differs (baseline {baseline.dataset}, run {current.dataset})")
    for name in ("eval_fingerprint", "fingerprint"):
        b, c = getattr(baseline, name), getattr(current, name)
        if b != c:
            problems.append(f"dataset {name.replace('_', ' ')} differs (baseline {b[:12]}, run {c[:12]})")
    if baseline.threat_models != current.threat_models:
        problems.append(f"threat models differ (baseline {', '.join(baseline.threat_models)}; run {', '.join(current.threat_models)})")
    spec_changed = baseline.spec_hash != current.spec_hash
    if spec_changed and not allow_spec_change:
        problems.append(f"spec hash differs (baseline {baseline.spec_hash[:12]}, run {current.spec_hash[:12]})")
    if problems:
        raise BaselineError(
            "cannot compare the run with the baseline: " + "; ".join(problems) + "; " + _refusal_hint(problems, spec_changed)
        )
    notes = []
    if spec_changed:
        notes.append(
            f"spec changed (baseline {baseline.spec_hash[:12]}, run {current.spec_hash[:12]}); compared anyway (--allow-spec-change)"
        )
    if baseline.suite != current.suite:
        notes.append(f"suite renamed: baseline {baseline.suite}, run {current.suite}")
    if baseline.bench_version != current.bench_version:
        notes.append(f"bench version: baseline {baseline.bench_version}, run {current.bench_version}")
    return notes


def _refusal_hint(problems: list[str], spec_changed: bool) -> str:
    # Only a hint that would work: --allow-spec-change cannot get past other data or other threat models.
    if len(problems) == 1 and spec_changed:
        return "pass --allow-spec-change to compare anyway, or record a new baseline from this run if the change is intended"
    if any(p.startswith("dataset") for p in problems):
        return (
            "the run evaluated other data than the baseline (dataset, eval_size, train_size, seed or the files themselves); "
            "rerun with the baseline's data, or record a new baseline from this run if the change is intended"
        )
    return "the run attacks other norms than the baseline; record a new baseline from this run if the change is intended"


def _judge(key: str, base: Metric, cur: Metric, tol: Tolerance) -> Comparison:
    sign = 1.0 if base.direction == HIGHER else -1.0
    if key.split("/", 1)[0] in RATES:
        # Baselines from before counts were recorded hold only the rounded rate; its count is recovered from it.
        interval = wilson(base.k if base.k is not None else count_of(base.value, base.n), base.n)
        gain = sign * (cur.value - base.value)
        outside = not (interval[0] - SLACK <= cur.value <= interval[1] + SLACK)
        limit = tol.rate
    else:
        interval = (base.value * (1 - tol.norm), base.value * (1 + tol.norm))
        gain = sign * (cur.value - base.value) / max(abs(base.value), 1e-12)
        outside, limit = True, tol.norm
    if outside and gain < -(limit + SLACK):
        status = "regressed"
    elif outside and gain > limit + SLACK:
        status = "changed"
    else:
        status = "ok"
    return Comparison(key, base, cur, status, interval)


def compare(baseline: Snapshot, current: Snapshot, tolerance: Tolerance = Tolerance(), patterns: tuple[str, ...] = ()) -> list[Comparison]:
    """Judge every metric of either snapshot (only ids matching a glob of ``patterns``, if given)."""
    keys = sorted(set(baseline.metrics) | set(current.metrics))
    if patterns:
        unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(k, p) for k in keys)]
        if unmatched:
            raise BaselineError(
                f"--metric {unmatched[0]}: matches no metric id (ids look like robust_accuracy/<model>/<attack>/<norm>/<eps>)"
            )
        keys = [k for k in keys if any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    out = []
    for key in keys:
        base, cur = baseline.metrics.get(key), current.metrics.get(key)
        if base is None:
            out.append(Comparison(key, None, cur, "new"))
        elif cur is None:
            out.append(Comparison(key, base, None, "missing"))
        else:
            out.append(_judge(key, base, cur, tolerance))
    return out


def run_check(
    baseline: Snapshot,
    current: Snapshot,
    tolerance: Tolerance = Tolerance(),
    patterns: tuple[str, ...] = (),
    allow_spec_change: bool = False,
) -> CheckResult:
    """Refuse incomparable inputs, then compare; the whole of ``bench check`` minus its output."""
    notes = check_identity(baseline.identity, current.identity, allow_spec_change)
    if current.status != "complete":
        notes.append(f"the run's status is '{current.status}', not 'complete'; its missing cells show as missing metrics")
    return CheckResult(compare(baseline, current, tolerance, patterns), notes)
