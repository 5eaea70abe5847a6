"""The audit checks: AutoAttack's cheap model checks, cross-backend consistency, and the indicators of attack failure.

Pure functions of diagnostics, summaries, records and the attacks' recorded details
(``bench.results.details``), yielding rows of ``bench.results.flags.FLAG_COLUMNS``.
Every check, its threshold and what to do about it is in docs/flags.md under the
check's name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from bench.results.details import Details
from bench.results.families import family_of
from bench.results.flags import flag_row, grade
from bench.results.records import WORST

# Fractions of inputs.
PROB_WARN, PROB_FAIL = 0.10, 0.50
# randomized-model warns above 0 (any input at all): the smallest positive float is the first value that reaches it.
RANDOM_WARN, RANDOM_FAIL = math.ulp(0.0), 0.10
SILENT_WARN, SILENT_FAIL = 0.01, 0.05
INCOMPLETE_WARN, INCOMPLETE_FAIL = 0.05, 0.20
UNSTABLE_WARN, UNSTABLE_FAIL = 0.05, 0.20
# Per sample: the normalised margin still falls by more than this between the last two tenths of the trace ...
INCOMPLETE_DROP = 0.05
# ... or it moves by more than this fraction of itself under noise of radius 0.01.
UNSTABLE_REL = 0.10
# Attacks offered by both backends: the family names compared by backend-disagreement.
SHARED_FAMILIES = ("fgsm", "pgd", "deepfool")
BACKENDS = ("art", "torchattacks")
ATTACK_TESTS = "attack_tests.csv"
"""The binarization test's results in a run folder (``bench attack-test``)."""
BINARIZATION_PASS = 0.9
"""bench's threshold, not the paper's: the share of feasible samples an attack must break to pass the binarization test."""


def check_model_outputs(diag: pd.DataFrame) -> Iterator[dict[str, object]]:
    """probability-outputs, randomized-model and dynamic-model: AutoAttack's checks on the model itself."""
    if not {"prob_output", "randomized", "grad_calls"} <= set(diag.columns):
        return  # diagnostics written before these checks existed
    for model, g in diag.groupby("model", sort=False):
        prob, rand, calls = float(g["prob_output"].mean()), float(g["randomized"].mean()), int(g["grad_calls"].max())
        text = f"{prob:.0%} of outputs are probability vectors (in [0,1], summing to 1): attacks need the logits, not a softmax"
        limits = f"warn>={PROB_WARN:g}, fail>={PROB_FAIL:g}"
        yield flag_row(model, "", "probability-outputs", "masking", grade(prob, PROB_WARN, PROB_FAIL), prob, limits, text)
        draws = int(g["eval_draws"].max()) if "eval_draws" in g and g["eval_draws"].notna().any() else 1
        limits = f"warn>0, fail>={RANDOM_FAIL:g} (with eval_draws 1)"
        if draws > 1:
            # Judged by a vote of several draws, as docs/obfuscated.md asks: the check is met, whatever varies.
            text = f"{rand:.0%} of inputs get different outputs in repeated passes; predictions are the majority vote of {draws} draws"
            yield flag_row(model, "", "randomized-model", "sanity", "pass", rand, limits, text)
        else:
            text = f"{rand:.0%} of inputs get different outputs in repeated passes (eval mode): a deterministic attack sees one draw"
            if rand > 0:
                text += f", and each prediction is one draw: set eval_draws (e.g. eval_draws: 11) on model {model}"
            yield flag_row(model, "", "randomized-model", "sanity", grade(rand, RANDOM_WARN, RANDOM_FAIL), rand, limits, text)
        text = f"one forward pass called backward/grad {calls} times: the defence optimises at inference, and static attacks miss it"
        yield flag_row(model, "", "dynamic-model", "sanity", "fail" if calls > 0 else "pass", float(calls), "fail>0", text)


def _backend(use: object) -> str:
    return str(use).split(".", 1)[0] if isinstance(use, str) else ""


def check_backend_disagreement(summary: pd.DataFrame) -> Iterator[dict[str, object]]:
    """backend-disagreement: one attack in ART and in torchattacks, same model/eps/view, with disjoint 95% intervals."""
    s = summary[(summary["attack"] != WORST) & (summary["source"].fillna("") == "")]
    s = s[s["use"].map(lambda u: isinstance(u, str) and _backend(u) in BACKENDS and family_of(u).name in SHARED_FAMILIES).astype(bool)]
    if not len(s):
        return
    s = s.assign(family=s["use"].map(lambda u: family_of(u).name), backend=s["use"].map(_backend))
    for (model, family, norm, eps, view), g in s.groupby(["model", "family", "norm", "eps", "view"], sort=False):
        art, ta = g[g["backend"] == "art"], g[g["backend"] == "torchattacks"]
        for a in art.itertuples():
            for t in ta.itertuples():
                apart = a.attack_success_rate_lo > t.attack_success_rate_hi or t.attack_success_rate_lo > a.attack_success_rate_hi
                diff = abs(float(a.attack_success_rate) - float(t.attack_success_rate))
                where = f"{norm} eps {eps:g}" if math.isfinite(eps) else f"{norm}, unbounded"
                yield flag_row(
                    model,
                    f"{a.attack}, {t.attack}",
                    "backend-disagreement",
                    "sanity",
                    # About the two implementations, not the model: the per-sample worst case already takes the
                    # stronger one, so a disagreement does not make the model's numbers unreliable.
                    "warn" if apart else "pass",
                    diff,
                    "warn when the 95% intervals are disjoint",
                    f"{family} at {where}, view {view}: ART ({a.attack}) {a.attack_success_rate:.1%} "
                    f"[{a.attack_success_rate_lo:.1%}, {a.attack_success_rate_hi:.1%}], torchattacks ({t.attack}) "
                    f"{t.attack_success_rate:.1%} [{t.attack_success_rate_lo:.1%}, {t.attack_success_rate_hi:.1%}]",
                )


def indicator_table(records: pd.DataFrame, details: list[Details]) -> pd.DataFrame:
    """Per traced attack cell x eps x sample: the three indicators, judged on the samples correct before the attack.

    * ``silent``: a point on the path was adversarial (to the view), but the returned one does not fool the model;
    * ``incomplete``: the attack failed, and its normalised margin still fell by more than ``INCOMPLETE_DROP``
      between the second-to-last and the last tenth of its trace;
    * ``unstable``: the margin at the input moves by more than ``UNSTABLE_REL`` of itself under tiny noise.
    """
    cols = ["model", "attack", "use", "eps", "sample", "success", "silent", "incomplete", "unstable"]
    rows = []
    for d in details:
        if not {"margin_trace", "ever_adv", "noise_rel"} <= set(d.arrays):
            continue
        rec = records[(records["model"] == d.model) & (records["attack"] == d.attack)]
        rec = rec[np.isclose(rec["eps"].astype(float), d.eps) | (np.isinf(rec["eps"].astype(float)) & math.isinf(d.eps))]
        rec = rec.drop_duplicates("sample").set_index("sample")
        idx = pd.Index(d.sample)
        if not len(rec) or not idx.isin(rec.index).all():
            continue
        rec = rec.loc[idx]
        correct = (rec["clean_pred"] == rec["label"]).to_numpy()
        success = rec["success"].to_numpy().astype(bool)
        trace = d.arrays["margin_trace"].astype(np.float64)
        steps = trace.shape[1]
        w = max(steps // 10, 1)
        scale = np.maximum(np.abs(trace[:, 0]), 1e-12)
        if steps >= 2 * w:
            drop = (np.nanmean(trace[:, -2 * w : -w], 1) - np.nanmean(trace[:, -w:], 1)) / scale
        else:
            drop = np.zeros(len(trace))
        frame = pd.DataFrame(
            {
                "model": d.model,
                "attack": d.attack,
                "use": d.use,
                "eps": d.eps,
                "sample": d.sample,
                "success": success,
                "silent": d.arrays["ever_adv"].astype(bool) & ~success,
                "incomplete": ~success & (np.nan_to_num(drop) > INCOMPLETE_DROP),
                "unstable": d.arrays["noise_rel"].astype(np.float64) > UNSTABLE_REL,
            }
        )
        rows.append(frame[correct])
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


INDICATORS = {
    "silent-success": ("silent", SILENT_WARN, SILENT_FAIL, "{k} of {n} samples had an adversarial point on the path but not at the end"),
    "incomplete-optimisation": (
        "incomplete",
        INCOMPLETE_WARN,
        INCOMPLETE_FAIL,
        "{k} of {n} failed samples' margins were still falling at the last step: more steps would break more",
    ),
    "unstable-predictions": (
        "unstable",
        UNSTABLE_WARN,
        UNSTABLE_FAIL,
        "{k} of {n} samples' margins move by >10% under noise of radius 0.01: gradients there are unreliable",
    ),
}


def check_indicators(
    records: pd.DataFrame, details: list[Details], randomized: frozenset[str] = frozenset()
) -> Iterator[dict[str, object]]:
    """silent-success, incomplete-optimisation, unstable-predictions: per model x traced attack, worst over its budgets.

    Not on a ``randomized`` model: its traces follow random draws, so a margin that rises, falls
    or moves under noise says what the draw did, not how the optimisation went.
    """
    table = indicator_table(records, details)
    for (model, attack), g in table.groupby(["model", "attack"], sort=False):
        if model in randomized:
            continue
        for check, (col, warn, fail, text) in INDICATORS.items():
            worst: tuple[float, int, int, float] | None = None
            for eps, e in g.groupby("eps", sort=True):
                base = e[~e["success"]] if col == "incomplete" else e
                n, k = len(base), int(base[col].sum()) if len(base) else 0
                frac = k / len(e) if len(e) else 0.0
                if worst is None or frac > worst[0]:
                    worst = (frac, k, n, float(eps))
            assert worst is not None
            frac, k, n, eps = worst
            where = f"eps {eps:g}" if math.isfinite(eps) else "unbounded"
            yield flag_row(
                model,
                attack,
                check,
                "sanity",
                grade(frac, warn, fail),
                frac,
                f"warn>={warn:g}, fail>={fail:g} (of the samples attacked)",
                text.format(k=k, n=n) + f" ({where})",
            )


def autoattack_breakdown(records: pd.DataFrame, details: list[Details], subattacks: tuple[str, ...]) -> pd.DataFrame:
    """Per model x AutoAttack cell x eps: robust accuracy after each sub-attack (as the view judged it) and at the end (bench's)."""
    rows = []
    for d in details:
        if "broken_by" not in d.arrays:
            continue
        rec = records[(records["model"] == d.model) & (records["attack"] == d.attack)]
        rec = rec[np.isclose(rec["eps"].astype(float), d.eps)].drop_duplicates("sample").set_index("sample")
        if not len(rec) or not pd.Index(d.sample).isin(rec.index).all():
            continue
        rec = rec.loc[pd.Index(d.sample)]
        correct = (rec["clean_pred"] == rec["label"]).to_numpy()
        n = len(rec)
        by = d.arrays["broken_by"]
        row: dict[str, object] = {"model": d.model, "attack": d.attack, "eps": d.eps, "n_samples": n, "clean": correct.mean()}
        for i, name in enumerate(subattacks):
            row[f"after {name}"] = float((correct & ((by < 0) | (by > i))).sum() / n)
        row["robust (bench)"] = float(rec["robust"].mean())
        rows.append(row)
    return pd.DataFrame(rows)
