"""Paper tables (bench.reporting.export.paper): booktabs LaTeX and CSV of the report's own tables, escaped, best in bold."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import pytest
from helpers.leaderboard import FLAGS, two_runs
from helpers.report_fixtures import clean, fixed, records, run_folder

from bench.reporting.export.paper import LATEX_SPECIALS, latex_escape, paper_tables, reliability, to_csv, to_latex
from bench.reporting.report.run_report import read_tables
from bench.results.run_folder import RunFolder

HOSTILE = "<script>alert('x')</script> & 100% of_x \\cite{a} #1 $5 {b} ~c ^d [e] |f"
TEX_ENGINES = ("pdflatex", "lualatex", "tectonic")


def unescape(tex: str) -> str:
    """The text an escaped string typesets: each escape sequence back to its character."""
    back = {v: k for k, v in LATEX_SPECIALS.items()}
    return re.sub("|".join(re.escape(v) for v in sorted(back, key=len, reverse=True)), lambda m: back[m.group()], tex)


def test_every_special_character_is_escaped_once_and_means_itself():
    escaped = latex_escape(HOSTILE)
    assert unescape(escaped) == HOSTILE
    # Nothing LaTeX would interpret is left once the escape sequences are taken out.
    bare = re.sub("|".join(re.escape(v) for v in LATEX_SPECIALS.values()), "", escaped)
    assert not set(bare) & set("\\&%$#_{}~^<>[]|"), bare
    assert latex_escape("\\&") == r"\textbackslash{}\&", "one pass: an escape's backslash is not escaped again"
    assert latex_escape("L∞ 8/255 – ±") == r"L\ensuremath{\infty} 8/255 -- \ensuremath{\pm}"


@pytest.fixture
def run_with_flags(tmp_path):
    """Run ``one`` (models a, b) with the hand-made verdicts: b unreliable (a failed masking check)."""
    one, _ = two_runs(tmp_path)
    folder = RunFolder(one)
    _, _, t = read_tables(folder)
    return folder, dataclasses.replace(t, flags=FLAGS[FLAGS["model"] != "c"].reset_index(drop=True))


def test_latex_tables_are_booktabs_with_the_best_reliable_number_bold_and_unreliable_models_marked(run_with_flags):
    folder, t = run_with_flags
    unreliable = reliability(t)
    assert unreliable == {"b": True}
    tex = to_latex(folder, paper_tables(folder, t), unreliable)
    assert tex.count(r"\begin{table}") == 2 and tex.count(r"\toprule") == tex.count(r"\midrule") == tex.count(r"\bottomrule") == 2
    glance = tex.split(r"\begin{table}")[1]
    # a: clean 100%, naive 25%, adaptive 75% at linf 0.3; b: 100%, 75%, 75% but unreliable, so never bold, and marked.
    assert r"a & \textbf{100.0\% {[}51.0, 100.0{]}} & \textbf{25.0\% {[}4.6, 69.9{]}} & \textbf{75.0\% {[}30.1, 95.4{]}}" in glance
    assert r"b$^\dagger$ & 100.0\% {[}51.0, 100.0{]} & 75.0\% {[}30.1, 95.4{]} & 75.0\% {[}30.1, 95.4{]} & fail & no" in glance
    assert r"naive @ L\ensuremath{\infty} 0.3" in glance and r"$^\dagger$ unreliable" in glance
    assert r"\label{tab:one-at-a-glance}" in glance and r"\label{tab:one-defences}" in tex
    defences = tex.split(r"\begin{table}")[2]
    assert r"a & linf & 0.3 & 4 & \textbf{100.0\% {[}51.0, 100.0{]}} & \textbf{25.0\% {[}4.6, 69.9{]}}" in defences


def test_csv_holds_the_same_tables_with_reliability(run_with_flags):
    folder, t = run_with_flags
    files = to_csv(paper_tables(folder, t), reliability(t))
    assert list(files) == ["at_a_glance.csv", "defences.csv"]
    assert files["at_a_glance.csv"].splitlines()[0] == "model,clean,naive @ L∞ 0.3,adaptive @ L∞ 0.3,masking,reliable,why"
    assert 'b,"100.0% [51.0, 100.0]","75.0% [30.1, 95.4]","75.0% [30.1, 95.4]",fail,no,' in files["at_a_glance.csv"]
    assert files["defences.csv"].splitlines()[0] == "model,norm,eps,n_samples,clean,naive,adaptive,gap,verdict,reliable"
    assert files["defences.csv"].splitlines()[-1].endswith(",fail,no")


def hostile_run(tmp_path):
    """A run whose suite name, model id, claim source and check messages carry every special character."""
    ok = [True] * 4
    recs = records(
        clean("m_1", ok),
        fixed("m_1", "pgd", ok, {0.3: [True, False, False, False]}),
        fixed("m_1", "pgdm", ok, {0.3: [True, True, False, False]}, use="bench.pgd_margin", tag="adaptive"),
    )
    run = run_folder(tmp_path, "suite_#1", recs)
    import json

    manifest = json.loads((run / "manifest.json").read_text())
    manifest["spec"]["models"][0]["claimed"] = {"robust_accuracy": 0.9, "norm": "linf", "eps": 0.3, "source": HOSTILE}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_user_strings_reach_the_latex_file_escaped(tmp_path):
    folder = RunFolder(hostile_run(tmp_path))
    _, _, t = read_tables(folder)
    tex = to_latex(folder, paper_tables(folder, t), reliability(t))
    assert latex_escape(HOSTILE) in tex and HOSTILE not in tex
    assert re.search(r"^m\\_1(\$\^\\dagger\$)? &", tex, re.M) and r"suite\_\#1: at a glance" in tex and "<script>" not in tex
    # Every line of table content, once its escapes and bench's own markup are taken out, has no special character left.
    markup = r"\\(?:textbf|caption|label|ensuremath|infty|textsubscript)\{?|\$\^\\dagger\$|\\\\$|&|\{|\}"
    for line in tex.splitlines():
        if line.startswith(("%", "\\begin", "\\end", "\\toprule", "\\midrule", "\\bottomrule", "\\centering")):
            continue
        bare = re.sub(markup, "", re.sub("|".join(re.escape(v) for v in LATEX_SPECIALS.values()), "", line))
        assert not set(bare) & set("\\%$#_~^<>[]|"), (line, bare)


def test_the_latex_file_compiles(tmp_path):
    engine = next((e for e in TEX_ENGINES if shutil.which(e)), None)
    if engine is None:
        pytest.skip(f"no TeX engine on PATH (looked for {', '.join(TEX_ENGINES)}); the compile check runs where one is installed")
    folder = RunFolder(hostile_run(tmp_path))
    _, _, t = read_tables(folder)
    (tmp_path / "tables.tex").write_text(to_latex(folder, paper_tables(folder, t), reliability(t)))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\\input{tables.tex}\n\\end{document}\n"
    )
    cmd = [engine, "paper.tex"] if engine == "tectonic" else [engine, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "paper.pdf").read_bytes().startswith(b"%PDF-")
