"""The figures (bench.reporting.figures.plots): both files are written, and the plotted data are the right numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers.figures import both_files
from helpers.report_fixtures import clean, fixed, min_norm, records

from bench.reporting.figures.plots import plot_min_norm_cdf, plot_naive_vs_adaptive, plot_robust_accuracy, plot_temperature
from bench.results.metrics import clean_accuracy, naive_vs_adaptive, summarize

OK4 = [True, True, True, True]
OK5 = [True, True, True, True, False]


@pytest.fixture
def two_attacks():
    # fgsm breaks samples 0,1 at 0.1 and 0,1,2 at 0.3; pgd breaks 3 at 0.1 and 3 at 0.3. Neither alone leaves the
    # worst case: per sample, all four are broken at 0.3 (0% robust), three at 0.1 (25%).
    return records(
        clean("m", OK4),
        fixed("m", "fgsm", OK4, {0.1: [1, 1, 0, 0], 0.3: [1, 1, 1, 0]}, use="torchattacks.fgsm"),
        fixed("m", "pgd-margin", OK4, {0.1: [0, 0, 0, 1], 0.3: [0, 0, 0, 1]}, use="bench.pgd_margin", tag="adaptive"),
        min_norm("m", "cw", OK4, [0.5, 1.0, math.inf, 2.0]),
    )


def test_robust_accuracy_plots_each_attack_and_the_per_sample_envelope(two_attacks, tmp_path):
    plot = plot_robust_accuracy(summarize(two_attacks), "suite-x", tmp_path)
    both_files(plot)
    assert plot.title == "suite-x: robust accuracy vs eps"
    s = plot.series
    assert s["m, L∞|fgsm [naive]"] == ([0.1, 0.3], [50.0, 25.0])
    assert s["m, L∞|pgd-margin [adaptive]"] == ([0.1, 0.3], [75.0, 75.0])
    assert s["m, L∞|worst case over attacks (per sample)"] == ([0.1, 0.3], [25.0, 0.0])
    # The L2 attack has only its unbounded row, which has no place on an eps axis.
    assert not any("cw" in k for k in s)


def test_robust_accuracy_is_skipped_without_bounded_rows(tmp_path):
    r = records(clean("m", OK4), min_norm("m", "cw", OK4, [0.5, 1.0, 1.5, 2.0]))
    assert plot_robust_accuracy(summarize(r), "s", tmp_path) is None
    assert plot_robust_accuracy(pd.DataFrame(), "s", tmp_path) is None
    assert not list(tmp_path.iterdir())


def _temperature_records():
    return records(
        clean("base", OK5),
        clean("dist", OK5),
        clean("teacher", [True] * 5),
        fixed("base", "pgd", OK5, {0.1: [1, 0, 0, 0, 0], 0.3: [1, 1, 1, 1, 0]}),
        fixed("dist", "pgd", OK5, {0.1: [0, 0, 0, 0, 0], 0.3: [1, 0, 0, 0, 0]}),
        min_norm("base", "cw", OK5, [0.5, 0.5, 0.5, 0.5, 0.5]),
        min_norm("dist", "cw", OK5, [0.5, 0.5, 0.5, math.inf, 0.5]),
    )


def test_temperature_reads_each_attack_at_its_largest_eps(tmp_path):
    r = _temperature_records()
    plot = plot_temperature(summarize(r), clean_accuracy(r), {"base": 1.0, "dist": 100.0, "teacher": 100.0}, "s", tmp_path)
    both_files(plot)
    s = plot.series
    pgd = next(k for k in s if k.startswith("attack success rate vs T|pgd"))
    cw = next(k for k in s if k.startswith("attack success rate vs T|cw"))
    assert "L∞ eps 0.3" in pgd and "unbounded L2" in cw
    assert s[pgd] == ([1.0, 100.0], [100.0, 25.0])
    assert s[cw] == ([1.0, 100.0], [100.0, 75.0])
    # The teacher is not attacked, so it is not on the clean-accuracy line either.
    assert s["clean accuracy vs T|clean accuracy (95% Wilson interval)"] == ([1.0, 100.0], [80.0, 80.0])


def test_temperature_pools_models_that_share_a_temperature(tmp_path):
    r = _temperature_records()
    r2 = records(r, clean("dist-s1", [True] * 5), fixed("dist-s1", "pgd", [True] * 5, {0.1: [0] * 5, 0.3: [1, 1, 1, 0, 0]}))
    plot = plot_temperature(summarize(r2), clean_accuracy(r2), {"base": 1.0, "dist": 100.0, "dist-s1": 100.0}, "s", tmp_path)
    pgd = next(k for k in plot.series if "|pgd" in k)
    # At T=100: 1 of 4 and 3 of 5 correctly classified samples broken -> 4 / 9.
    assert plot.series[pgd][1][1] == pytest.approx(100 * 4 / 9)


def test_temperature_needs_two_temperatures_among_attacked_models(tmp_path):
    r = _temperature_records()
    assert plot_temperature(summarize(r), clean_accuracy(r), {"base": 1.0, "dist": 1.0, "teacher": 100.0}, "s", tmp_path) is None
    assert plot_temperature(summarize(r), clean_accuracy(r), {}, "s", tmp_path) is None


def test_min_norm_cdf_counts_failures_as_infinitely_far(tmp_path):
    # Sample 4 is misclassified before the attack and does not count; sample 2 is never broken.
    r = records(clean("m", OK5), min_norm("m", "cw", OK5, [0.5, 1.0, math.inf, 2.0, 0.1]), fixed("m", "pgd", OK5, {0.3: [1, 1, 1, 1, 1]}))
    plot = plot_min_norm_cdf(r, "s", tmp_path)
    both_files(plot)
    (key,) = plot.series
    assert key.startswith("cw (bench.cw_l2, view logits)|m: 3/4 broken")
    x, y = plot.series[key]
    assert x == [0.0, 0.5, 1.0, 2.0]
    assert y == [0.0, 25.0, 50.0, 75.0]


def test_min_norm_cdf_is_skipped_without_l2_min_norm_attacks(tmp_path):
    r = records(clean("m", OK4), min_norm("m", "jsma", OK4, [3, 4, 5, 6], use="art.jsma", tag="naive", norm="l0"))
    assert plot_min_norm_cdf(r, "s", tmp_path) is None


def test_naive_vs_adaptive_bars_use_the_largest_common_eps(tmp_path):
    r = records(
        clean("a", OK4),
        clean("b", OK4),
        fixed("a", "pgd", OK4, {0.1: [0, 0, 0, 0], 0.3: [1, 0, 0, 0]}),
        fixed("a", "pgdm", OK4, {0.1: [1, 1, 0, 0], 0.3: [1, 1, 1, 1]}, use="bench.pgd_margin", tag="adaptive"),
        fixed("b", "pgd", OK4, {0.1: [0, 0, 0, 0]}),
        fixed("b", "pgdm", OK4, {0.1: [1, 1, 1, 0]}, use="bench.pgd_margin", tag="adaptive"),
    )
    plot = plot_naive_vs_adaptive(naive_vs_adaptive(r), "s", tmp_path)
    both_files(plot)
    assert plot.series["L∞ eps 0.1|naive attacks (worst case)"] == (["a", "b"], [100.0, 100.0])
    assert plot.series["L∞ eps 0.1|adaptive attacks (worst case)"] == (["a", "b"], [50.0, 25.0])


def pdf_font_subtypes(pdf: bytes) -> set[str]:
    """Every font ``/Subtype`` a PDF declares, parsed from its (uncompressed) object dictionaries."""
    import re

    fonts = re.findall(rb"/Type\s*/Font\b[^>]*?/Subtype\s*/(\w+)|/Subtype\s*/(\w+)[^>]*?/Type\s*/Font\b", pdf)
    return {(a or b).decode() for a, b in fonts}


def test_pdf_figures_embed_truetype_fonts_not_type3_and_leave_the_callers_settings_alone(two_attacks, tmp_path):
    import shutil
    import subprocess

    import matplotlib

    before = matplotlib.rcParams["pdf.fonttype"]
    plot = plot_robust_accuracy(summarize(two_attacks), "suite-x", tmp_path)
    pdf = plot.pdf.read_bytes()
    subtypes = pdf_font_subtypes(pdf)
    # Type 42 is embedded as a CID font over a TrueType program (/FontFile2); Type 3 would be /Subtype /Type3.
    assert "Type3" not in subtypes and {"Type0", "CIDFontType2"} <= subtypes, subtypes
    assert b"/FontFile2" in pdf
    assert matplotlib.rcParams["pdf.fonttype"] == before, "the setting is applied around the save only"
    if shutil.which("pdffonts"):  # poppler-utils, where installed: the reader's own view of the fonts
        listing = subprocess.run(["pdffonts", str(plot.pdf)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all("TrueType" in r and "Type 3" not in r for r in rows), listing


def test_two_reports_of_one_run_with_the_same_source_date_epoch_have_identical_svg_and_pdf(tmp_path, monkeypatch):
    from helpers.leaderboard import two_runs

    from bench.reporting.report.run_report import write_report

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, _ = two_runs(tmp_path / "a")
    second, _ = two_runs(tmp_path / "b")
    write_report(first)
    write_report(second)
    files = sorted(p.name for p in (first / "plots").iterdir() if p.suffix in (".svg", ".pdf"))
    assert {"defences.pdf", "defences.svg", "robust_accuracy_vs_eps.pdf", "naive_vs_adaptive.svg"} <= set(files)
    for name in files:
        assert (first / "plots" / name).read_bytes() == (second / "plots" / name).read_bytes(), name
    assert b"/CreationDate (D:20231114221320Z)" in (first / "plots" / "defences.pdf").read_bytes()


def test_without_source_date_epoch_a_figure_carries_no_date(two_attacks, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    plot = plot_robust_accuracy(summarize(two_attacks), "suite-x", tmp_path)
    assert b"/CreationDate" not in plot.pdf.read_bytes() and "<dc:date>" not in plot.svg.read_text()
