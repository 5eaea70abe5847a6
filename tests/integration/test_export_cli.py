"""``bench export`` and the paper figures on a real smoke run: RobustBench verdicts, LaTeX tables, PDFs, reproducibility."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from helpers.cli import invoke


def test_robustbench_entries_mark_the_distilled_model_unreliable_only(smoke_cold_run, tmp_path):
    res = invoke("export", smoke_cold_run.dir, "--format", "robustbench", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    entries = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "model_info" / "digits" / "Linf").glob("*.json")}
    assert {name: e["unreliable"] for name, e in entries.items()} == {"baseline": False, "distilled": True}
    assert all(e["eps"] == "0.3" and re.fullmatch(r"\d+\.\d\d", e["autoattack_acc"]) for e in entries.values())
    assert "Unreliable: masking fail" in entries["distilled"]["footnote"]
    assert entries["baseline"]["architecture"] == "small-cnn"


def test_latex_export_of_a_real_run(smoke_cold_run, tmp_path):
    res = invoke("export", smoke_cold_run.dir, "--format", "latex", "--out", tmp_path / "smoke.tex")
    assert res.exit_code == 0, res.output
    tex = (tmp_path / "smoke.tex").read_text()
    assert tex.count(r"\toprule") == 2 and r"distilled$^\dagger$ &" in tex and "\\textbf{" in tex


def test_the_figures_of_two_reports_with_one_source_date_epoch_are_identical_and_have_no_type3_font(smoke_cold_run, tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        shutil.copytree(smoke_cold_run.dir, run)
        res = invoke("report", run, "-q", env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert res.exit_code == 0, res.output
    pdfs = sorted(p.name for p in (runs[0] / "plots").glob("*.pdf"))
    assert {"defences.pdf", "robust_accuracy_vs_eps.pdf", "examples.pdf"} <= set(pdfs)
    for name in [*pdfs, *(p.name for p in (runs[0] / "plots").glob("*.svg"))]:
        assert (runs[0] / "plots" / name).read_bytes() == (runs[1] / "plots" / name).read_bytes(), name
    for name in pdfs:
        pdf = (runs[0] / "plots" / name).read_bytes()
        assert b"/Type3" not in pdf and b"/FontFile2" in pdf, name
        if shutil.which("pdffonts"):
            listing = subprocess.run(["pdffonts", str(runs[0] / "plots" / name)], capture_output=True, text=True, check=True).stdout
            assert "Type 3" not in listing and "TrueType" in listing, listing


def test_a_robustbench_export_comes_back_through_bench_site_as_reported_rows(smoke_cold_run, tmp_path):
    # The exporter and the site's reader agree on one format: the entries of a run come back marked, unranked.
    assert invoke("export", smoke_cold_run.dir, "--format", "robustbench", "--out", tmp_path / "rb").exit_code == 0
    res = invoke("site", smoke_cold_run.dir, tmp_path / "rb", "--out", tmp_path / "site")
    assert res.exit_code == 0, res.output
    index = (tmp_path / "site" / "index.html").read_text()
    reported = re.findall(r'<tr class="reported[^"]*".*?</tr>', index, flags=re.S)
    assert len(reported) == 2, "one reported row per exported entry"
    assert sum('class="badge unreliable"' in row for row in reported) == 1, "the distilled entry keeps its verdict"
    assert all('<span class="badge">reported</span>' in row for row in reported)
    measured = index.split("<h3>Reported at this budget")[0]
    assert '<tr class="reported' not in measured, "a reported row never sits in a measured, ranked table"
