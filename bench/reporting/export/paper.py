"""Paper tables: a run's at-a-glance and defences tables as booktabs LaTeX (pandas' ``Styler.to_latex``) or as CSV.

The tables are the report's own (``glance_frame``, ``defences_table``), so a paper, the
report and its CSV say the same numbers. LaTeX adds what a page needs: every cell and
header escaped (ids, claim sources and check messages are user text), the best number
of each rate column among the reliable models in bold, and unreliable models marked
with a dagger that the caption explains. Only booktabs is needed: ``\\usepackage{booktabs}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from bench import __version__
from bench.reporting.figures.plots import norm_name
from bench.reporting.report.claims import read_claims
from bench.reporting.report.defences import defences_frame, defences_table, glance_frame, headline_eps
from bench.results.flags import model_verdicts
from bench.results.run_folder import RunFolder
from bench.results.tables import RunTables

# Every character LaTeX treats specially in text, and the few non-ASCII ones bench writes, which pdflatex cannot set alone.
LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # A cell that opens with [ right after \\ would be read as the row's vertical space.
    "[": "{[}",
    "]": "{]}",
    "∞": r"\ensuremath{\infty}",
    "±": r"\ensuremath{\pm}",
    "δ": r"\ensuremath{\delta}",
    "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}",
    "≈": r"\ensuremath{\approx}",
    "×": r"\ensuremath{\times}",
    "→": r"\ensuremath{\rightarrow}",
    "₂": r"\textsubscript{2}",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
}
_SPECIAL = re.compile("|".join(re.escape(c) for c in LATEX_SPECIALS))
_RATE = re.compile(r"^(-?\d+(?:\.\d+)?)%")
UNRELIABLE_MARK = r"$^\dagger$"
UNRELIABLE_NOTE = r"$^\dagger$ unreliable: a gradient-masking or sanity check failed, so its robust accuracy is no evidence of robustness"


def latex_escape(text: object) -> str:
    """``text`` as LaTeX typesets it literally: every special character escaped, in one pass (so escapes are not escaped)."""
    return _SPECIAL.sub(lambda m: LATEX_SPECIALS[m.group()], str(text))


@dataclass(frozen=True)
class PaperTable:
    """One table for a paper: the report's display frame, which cells to set in bold, and how to caption it."""

    name: str  # the CSV file's stem and the LaTeX label's suffix
    frame: pd.DataFrame
    bold: frozenset[tuple[int, str]]  # (row position, column)
    caption: str  # plain text: escaped when written
    wide: tuple[str, ...] = ()  # columns of free text, set as paragraphs so the table fits the page


def reliability(t: RunTables) -> dict[str, bool]:
    """Model id -> unreliable, from the verdicts the leaderboard ranks by (``model_verdicts``); a model without checks is not."""
    if not len(t.flags) or "verdict" not in t.flags:
        return {}
    v = model_verdicts(t.flags)
    return {str(m): bool(u) for m, u in zip(v["model"], v["unreliable"], strict=True)}


def best_cells(
    frame: pd.DataFrame, columns: list[str], unreliable: Mapping[str, bool], groups: tuple[str, ...] = ()
) -> set[tuple[int, str]]:
    """The cells of each rate column holding the best rate of a reliable model (within each group of ``groups``' values).

    Rates are compared as displayed (``85.0% [..]``), so models a reader sees tied are all bold.
    """
    out: set[tuple[int, str]] = set()
    keys = [tuple(frame[g].iloc[i] for g in groups) for i in range(len(frame))]
    for col in columns:
        values = [_rate(v) for v in frame[col]]
        for key in dict.fromkeys(keys):
            rows = [i for i in range(len(frame)) if keys[i] == key and values[i] is not None]
            reliable = [i for i in rows if not unreliable.get(str(frame["model"].iloc[i]), False)]
            if reliable:
                top = max(values[i] for i in reliable)  # type: ignore[type-var]
                out |= {(i, col) for i in reliable if values[i] == top}
    return out


def _rate(cell: object) -> float | None:
    m = _RATE.match(str(cell))
    return float(m.group(1)) if m else None


def paper_tables(run: RunFolder, t: RunTables) -> list[PaperTable]:
    """The at-a-glance and the defences tables of a run, as the report draws them (an empty defences table is left out)."""
    unreliable = reliability(t)
    heads = headline_eps(defences_frame(t.nva))
    at = ", ".join(f"{norm_name(n)} eps {e:g}" for n, e in heads.items()) or "no eps (no norm has naive and adaptive attacks)"
    glance = glance_frame(t, read_claims(run.manifest.get("spec")))
    rates = [c for c in glance.columns if c == "clean" or c.startswith(("naive @", "adaptive @"))]
    tables = [
        PaperTable(
            "at_a_glance",
            glance,
            frozenset(best_cells(glance, rates, unreliable)),
            f"{run.suite}: at a glance, at {at}. Clean accuracy and per-sample worst-case robust accuracy under the naive and "
            "the adaptive attacks (on the samples both attacked), with 95% Wilson intervals; the best number of a reliable "
            "model in bold.",
            wide=tuple(c for c in ("claimed", "why") if c in glance.columns),
        )
    ]
    defences = defences_table(t)
    if len(defences):
        tables.append(
            PaperTable(
                "defences",
                defences,
                frozenset(best_cells(defences, ["clean", "naive", "adaptive"], unreliable, ("norm", "eps"))),
                f"{run.suite}: defences at every budget. Naive and adaptive per-sample worst-case robust accuracy on the "
                "samples both attacked, clean accuracy on the whole test split, with 95% Wilson intervals; the best number of a "
                "reliable model at each budget in bold.",
            )
        )
    return tables


def _styled(table: PaperTable, mark: Callable[[object], str], suite: str) -> str:
    f = table.frame
    css = pd.DataFrame("", index=f.index, columns=f.columns)
    for i, col in table.bold:
        css.iloc[i, f.columns.get_loc(col)] = "textbf: --rwrap;"
    styler = f.style.hide(axis="index").format(latex_escape).format(mark, subset=["model"])
    styler = styler.format_index(latex_escape, axis=1).apply(lambda _: css, axis=None)
    columns = "".join(r"p{0.28\linewidth}" if c in table.wide else "l" for c in f.columns)
    return styler.to_latex(
        hrules=True,
        caption=latex_escape(table.caption) + " " + UNRELIABLE_NOTE + ".",
        label=f"tab:{re.sub(r'[^A-Za-z0-9-]+', '-', f'{suite}-{table.name}')}",
        position="htbp",
        position_float="centering",
        column_format=columns,
    )


def to_latex(run: RunFolder, tables: list[PaperTable], unreliable: Mapping[str, bool]) -> str:
    """Every table as a booktabs ``table`` environment, in one file for ``\\input``; the header says what made it."""

    def mark(model: object) -> str:
        return latex_escape(model) + (UNRELIABLE_MARK if unreliable.get(str(model), False) else "")

    spec = str(run.manifest.get("spec_hash") or "")[:12] or "unknown"
    head = (
        f"% bench {__version__} export of run {latex_escape(run.suite)} (spec {spec}): the report's at-a-glance and defences tables.\n"
        "% Needs \\usepackage{booktabs}. Rates are percentages of samples with 95% Wilson intervals in brackets.\n"
    )
    return head + "\n".join(_styled(t, mark, run.suite) for t in tables)


def to_csv(tables: list[PaperTable], unreliable: Mapping[str, bool]) -> dict[str, str]:
    """File name -> CSV text: the same tables, with a ``reliable`` column where a table has none."""
    out = {}
    for t in tables:
        f = t.frame
        if "reliable" not in f:
            f = f.assign(reliable=["no" if unreliable.get(str(m), False) else "yes" for m in f["model"]])
        out[f"{t.name}.csv"] = f.to_csv(index=False)
    return out
