"""What ``bench check`` prints: the comparison as a text table, a GitHub job summary, JUnit XML and hints."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bench.reporting.gate.compare import RATES, STATUSES, CheckResult, Comparison, Tolerance


def _cells(c: Comparison) -> list[str]:
    fmt = lambda m: "–" if m is None else f"{m.value:.4f}"  # noqa: E731
    delta = interval = ""
    if c.baseline is not None and c.current is not None:
        d = c.current.value - c.baseline.value
        delta = f"{d:+.4f}"
        if c.metric.split("/", 1)[0] not in RATES:
            delta += f" ({d / max(abs(c.baseline.value), 1e-12):+.1%})"
    if c.interval is not None:
        interval = f"[{c.interval[0]:.4f}, {c.interval[1]:.4f}]"
    return [c.metric, fmt(c.baseline), fmt(c.current), delta, interval, c.status, c.label]


HEADER = ["metric", "baseline", "current", "delta", "interval", "status", "who gained"]


def verdict_line(result: CheckResult) -> str:
    """``FAILED: 2 regressed, 1 missing, 70 ok (73 metrics)`` or ``passed: ...``."""
    counts = ", ".join(f"{result.count(s)} {s}" for s in STATUSES if result.count(s))
    return f"{'FAILED' if result.failed else 'passed'}: {counts or 'no metrics'} ({len(result.comparisons)} metrics)"


def hints(result: CheckResult, run_dir: str, baseline_path: str) -> list[str]:
    """What to do next: which metrics failed and why they moved; a new baseline only when nothing failed."""
    out = []
    for status in ("regressed", "missing"):
        ids = [c.metric for c in result.comparisons if c.status == status]
        if ids:
            out.append(f"{status}: {', '.join(ids)}")
    out += [f"why: {line}" for line in result.attributions()]
    if result.count("missing"):
        out.append("missing: a metric of the baseline is not in the run (a failed cell, or an attack or model removed from the suite)")
    # Suggesting a new baseline after a failure would teach CI users to silence the gate.
    if not result.failed and (result.count("changed") or result.count("new")):
        out.append(
            f"some metrics changed or are new; if that is intended, record a new baseline: bench baseline {run_dir} -o {baseline_path}"
        )
    return out


def tolerance_text(tolerance: Tolerance) -> str:
    """The regression rule in one line, with the tolerances in force."""
    return f"rates {tolerance.rate:g} absolute and outside the baseline's 95% Wilson interval; median norms {tolerance.norm:.0%} relative"


def render_text(result: CheckResult, tolerance: Tolerance, show_all: bool = False) -> str:
    """A fixed-width table of the metrics that are not ``ok`` (of every metric with ``show_all``)."""
    shown = [c for c in result.comparisons if show_all or c.status != "ok"]
    rows = [HEADER] + [_cells(c) for c in shown]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if not shown:
        lines = ["every metric is within tolerance of the baseline"]
    hidden = len(result.comparisons) - len(shown)
    if hidden:
        lines.append(f"({hidden} ok metrics not shown; --all shows every metric)")
    lines.append(f"tolerance: {tolerance_text(tolerance)}")
    return "\n".join(lines)


def render_markdown(result: CheckResult, tolerance: Tolerance, title: str, hint_lines: list[str], glance: str = "") -> str:
    """The same table for a GitHub job summary: the verdict, the run's at-a-glance table, failures, the full table folded away."""

    def table(comps: list[Comparison]) -> list[str]:
        rows = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return rows + ["| " + " | ".join(f"`{x}`" if i == 0 else x for i, x in enumerate(_cells(c))) + " |" for c in comps]

    out = [f"## {title}", "", f"**{verdict_line(result)}**", ""]
    out += [f"- {n}" for n in result.notes + hint_lines]
    if glance:
        out += ["", glance.rstrip()]
    notable = [c for c in result.comparisons if c.status != "ok"]
    if notable:
        out += ["", *table(notable)]
    out += [
        "",
        f"<details><summary>All {len(result.comparisons)} metrics</summary>",
        "",
        *table(result.comparisons),
        "",
        "</details>",
        "",
        f"Tolerance: {tolerance_text(tolerance)}.",
        "",
    ]
    return "\n".join(out)


def render_refusal_markdown(title: str, message: str) -> str:
    """The job summary when the check is refused (exit code 2): no table, only why."""
    return f"## {title}\n\n**not compared (exit code 2)**\n\n- {message}\n\n"


def render_junit(result: CheckResult, name: str = "bench check") -> str:
    """JUnit XML: one testcase per metric; regressed and missing fail, new is skipped."""
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(result.comparisons)),
        errors="0",
        failures=str(result.count("regressed") + result.count("missing")),
        skipped=str(result.count("new")),
    )
    for c in result.comparisons:
        case = ET.SubElement(suite, "testcase", classname=f"bench.{c.metric.split('/', 1)[0]}", name=c.metric)
        metric, base, cur, delta, interval, status, label = _cells(c)
        detail = f"baseline {base}, current {cur}, delta {delta or '–'}, interval {interval or '–'}" + (f", {label}" if label else "")
        if status == "regressed":
            ET.SubElement(case, "failure", type="regressed", message=f"{metric} regressed: {detail}")
        elif status == "missing":
            ET.SubElement(case, "failure", type="missing", message=f"{metric} is in the baseline but not in the run")
        elif status == "new":
            ET.SubElement(case, "skipped", message=f"{metric} is new: not in the baseline")
        else:
            ET.SubElement(case, "system-out").text = f"{status}: {detail}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def render_junit_error(message: str, name: str = "bench check") -> str:
    """JUnit XML for a check that could not be made (exit code 2): one testcase in error, saying why.

    CI test reporters show nothing for a missing file; this way a refused check is as visible as a failed one.
    """
    suite = ET.Element("testsuite", name=name, tests="1", errors="1", failures="0", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="bench.check", name="run and baseline can be compared")
    ET.SubElement(case, "error", type="not-compared", message=message).text = message
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
