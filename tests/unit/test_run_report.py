"""write_report (bench.reporting.report.run_report) on a hand-built run folder: every file, table, figure; self-contained HTML."""

from __future__ import annotations

import math
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.report_fixtures import clean, fixed, min_norm, records, run_folder
from matplotlib.figure import Figure

import bench.results.tables
from bench.reporting.figures.reuse import INDEX
from bench.reporting.report.run_report import write_report
from bench.results.examples import examples_path, save_examples
from bench.results.records import shard_name

OK = [True] * 5 + [False]
FIGURES = ["defences", "robust_accuracy_vs_eps", "temperature", "min_l2_cdf", "naive_vs_adaptive", "examples"]
SECTIONS = [
    "At a glance",
    "Defences",
    "Verdicts",
    "Clean accuracy",
    "Attacks",
    "Naive vs adaptive",
    "Minimal perturbations (Papernot's robustness metric)",
    "Across seeds",
    "Diagnostics",
    "Figures",
    "Provenance",
]


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.h2: list[str] = []
        self._in_h2 = False
        self.row_classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self._in_h2 = tag == "h2"
        if tag == "tr" and a.get("class"):
            self.row_classes.append(a["class"])

    def handle_endtag(self, tag):
        self._in_h2 = False if tag == "h2" else self._in_h2

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)


TEMPS = {"baseline": 1.0, "distilled-t100-s0": 100.0, "distilled-t100-s1": 100.0, "distilled-t10-s0": 10.0}


def _records():
    per_model = []
    # A temperature x seed sweep, as `temperatures: [10, 100]` and `seeds: [0, 1]` would make it (T=10 kept to one seed).
    for m in ["baseline", "distilled-t100-s0", "distilled-t100-s1", "distilled-t10-s0"]:
        strong = m == "baseline"
        per_model += [
            clean(m, OK),
            fixed(m, "fgsm", OK, {0.1: [strong] * 2 + [0] * 4, 0.3: [strong] * 4 + [0] * 2}, use="torchattacks.fgsm"),
            # An iterative naive attack: naive vs adaptive is compared only where the naive side has one.
            fixed(m, "pgd", OK, {0.1: [strong] * 2 + [0] * 4, 0.3: [strong] * 5 + [0]}),
            fixed(m, "pgd-margin", OK, {0.1: [1, 1, 0, 0, 0, 0], 0.3: [1] * 6}, use="bench.pgd_margin", tag="adaptive"),
            min_norm(m, "cw", OK, [0.4, 0.8, 1.2, 1.6, math.inf, 0.2]),
        ]
    return records(*per_model)


FLAGS = pd.DataFrame(
    [
        {
            "model": "distilled-t100-s0",
            "attack": "",
            "check": "naive-adaptive-gap",
            "category": "masking",
            "verdict": "fail",
            "value": 0.8,
            "threshold": "fail>=0.2",
            "message": "naive 80%, adaptive 0%",
        },
        {
            "model": "distilled-t100-s1",
            "attack": "fgsm",
            "check": "iterative-weaker",
            "category": "sanity",
            "verdict": "warn",
            "value": 0.03,
            "threshold": "warn>0.02",
            "message": "x",
        },
        {
            "model": "baseline",
            "attack": "",
            "check": "naive-adaptive-gap",
            "category": "masking",
            "verdict": "pass",
            "value": 0.0,
            "threshold": "fail>=0.2",
            "message": "ok",
        },
    ]
)


def _make_run(root):
    r = run_folder(
        root,
        "papers",
        _records(),
        temps={"baseline": 1.0, "distilled-t100-s0": 100.0, "distilled-t100-s1": 100.0, "distilled-t10-s0": 10.0},
    )
    x = np.random.default_rng(0).random((6, 1, 8, 8), dtype=np.float32)
    for m in ["baseline", "distilled-t100-s0"]:
        save_examples(
            examples_path(r, shard_name(m, "pgd-margin", "0" * 16)), x, np.clip(x + 0.3, 0, 1), [0] * 6, [0] * 5 + [1], [1] * 6, 0.3
        )
    return r


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One run folder with its report written once, for the tests that only read it (drawing takes ~2 s)."""
    # The checks are someone else's module and are tested there; here a fixed set shows the highlighting.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bench.results.tables, "run_checks", lambda records, summary, diagnostics=None, details=None: FLAGS.copy())
        r = _make_run(tmp_path_factory.mktemp("written"))
        summary = write_report(r)
    return r, summary


def test_write_report_writes_every_table_figure_and_report(written):
    run, summary = written
    for name in ["summary.csv", "clean.csv", "naive_vs_adaptive.csv", "flags.csv", "seeds.csv", "summary.md", "report.md", "report.html"]:
        assert (run / name).is_file(), name
    for fig in FIGURES:
        assert (
            (run / "plots" / f"{fig}.png").is_file()
            and (run / "plots" / f"{fig}.svg").is_file()
            and (run / "plots" / f"{fig}.pdf").is_file()
        ), fig
    assert len(summary) and "worst_case" in set(summary["attack"])
    seeds = pd.read_csv(run / "seeds.csv")
    pgd = seeds[(seeds["model"] == "distilled-t100") & (seeds["attack"] == "pgd-margin") & (seeds["eps"] == 0.1)].iloc[0]
    assert pgd["n_seeds"] == 2 and pgd["accuracy_mean"] == pytest.approx(3 / 6)


def test_html_report_is_self_contained_and_holds_every_table_and_figure(written):
    run, _ = written
    text = (run / "report.html").read_text()
    p = _Html()
    p.feed(text)
    imgs = [a for t, a in p.tags if t == "img"]
    assert len(imgs) == len(FIGURES)
    assert all(a["src"].startswith("data:image/png;base64,") for a in imgs)
    assert {a["alt"] for a in imgs} == {
        f"papers: {t}"
        for t in [
            "defences, naive vs adaptive robust accuracy",
            "robust accuracy vs eps",
            "attack success and clean accuracy vs distillation temperature",
            "CDF of minimal L2 perturbations",
            "naive vs adaptive robust accuracy",
            "clean and adversarial examples (each model's strongest attack)",
        ]
    }
    assert p.h2 == SECTIONS
    # Tables: at a glance (the glance, failed and warned checks, passing checks, every attack side by side), defences,
    # verdicts, clean, attacks, naive vs adaptive, minimal perturbations, seeds, flags, provenance fields, versions.
    assert sum(t == "table" for t, _ in p.tags) == 14
    assert not [t for t, _ in p.tags if t in ("script", "link", "iframe")]
    assert "http://" not in text and "https://" not in text
    # The answer first: the glance marks the unreliable model and names its verdict and why, before any long table.
    glance = text.split("<h2>At a glance</h2>")[1].split("<h2>")[0]
    assert glance.index('<tr class="fail"><td class="model">distilled-t100-s0') < glance.index("<details>")
    assert "naive-adaptive-gap: naive 80%, adaptive 0%" in glance.split("<details>")[0]
    assert "<summary>Passing checks (" in glance and "<summary>Every attack, models side by side (" in glance
    # The failed check, and its model marked unreliable in the verdicts.
    rest = text.split("<h2>Verdicts</h2>")[1]
    assert rest.count('<tr class="fail">') == 2 and rest.count('<tr class="warn">') == 1
    verdicts = text.split("<h2>Verdicts</h2>")[1].split("<h2>")[0]
    assert "masking fail: naive-adaptive-gap" in verdicts and verdicts.count("<tr") == 1 + 3  # header, the 3 checked models
    # Provenance from the manifest.
    for needle in ["ab" * 32, "c0ffee", "f" * 64, "2026-01-01T00:00:00+00:00", "resolved spec"]:
        assert needle in text


def test_markdown_reports_reference_the_figures_and_keep_the_summary_headings(written):
    run, _ = written
    md = (run / "report.md").read_text()
    for fig in FIGURES:
        assert f"](plots/{fig}.png)" in md
    summary = (run / "summary.md").read_text()
    assert summary.startswith("# bench summary: papers")
    for heading in [
        "## Verdicts",
        "## Clean accuracy",
        "## Attacks",
        "## Naive vs adaptive",
        "## Diagnostics",
        "## Across seeds",
        "## Provenance",
    ]:
        assert heading in summary and heading in md
    assert "](plots/" not in summary


def test_redraw_is_a_pure_function_of_the_folder(written, monkeypatch):
    run, _ = written
    monkeypatch.setattr(bench.results.tables, "run_checks", lambda records, summary, diagnostics=None, details=None: FLAGS.copy())
    first = {p.name: p.read_bytes() for p in (run / "plots").iterdir()} | {"report.html": (run / "report.html").read_bytes()}
    (run / "plots" / INDEX).unlink()  # else nothing is drawn again (test_a_second_report_...)
    write_report(run)
    second = {p.name: p.read_bytes() for p in (run / "plots").iterdir()} | {"report.html": (run / "report.html").read_bytes()}
    assert first == second


def test_a_second_report_of_an_unchanged_run_saves_no_figure_and_says_the_same(written, tmp_path, monkeypatch):
    run = Path(shutil.copytree(written[0], tmp_path / "copy"))  # another folder: the keys hold no path
    monkeypatch.setattr(bench.results.tables, "run_checks", lambda records, summary, diagnostics=None, details=None: FLAGS.copy())
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.suffix in (".html", ".md")}
    monkeypatch.setattr(Figure, "savefig", lambda *a, **k: pytest.fail("a figure was saved again"))
    write_report(run)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.suffix in (".html", ".md")} == before


def test_figures_that_no_longer_apply_are_removed_and_explained(written, tmp_path):
    run = Path(shutil.copytree(written[0], tmp_path / "copy"))
    assert (run / "plots" / "examples.png").exists()
    shutil.rmtree(run / "examples")
    write_report(run)
    assert not any((run / "plots" / f"examples.{ext}").exists() for ext in ("png", "svg", "pdf"))
    assert "examples: not drawn, no examples/ images for this run's attack cells" in (run / "report.md").read_text()


def test_report_without_manifest_or_attacks(tmp_path):
    run = run_folder(tmp_path, "bare", records(clean("m", OK)))
    (run / "manifest.json").unlink()
    write_report(run)
    html = (run / "report.html").read_text()
    assert "No manifest.json in this run folder." in html and "<img" not in html
    assert (run / "summary.csv").read_text().startswith("model,attack,")


def test_the_job_summary_opens_with_the_reports_glance(written):
    from bench.reporting.report.defences import glance_markdown

    run, _ = written
    md = glance_markdown(run)
    assert md.startswith("### At a glance\n\n| model | clean | naive @ L∞ 0.3 | adaptive @ L∞ 0.3 | masking | reliable | why |")
    assert "| distilled-t100-s0 |" in md and "naive-adaptive-gap: naive 80%, adaptive 0%" in md
    assert glance_markdown(run / "nowhere") == ""
