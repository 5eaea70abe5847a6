"""The leaderboard (bench.reporting.leaderboard.board): ranking by worst case, ties, families, flags, no mixed datasets or budgets."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers.leaderboard import OK, model_records, two_runs
from helpers.report_fixtures import clean, fixed, min_norm, records, run_folder

from bench.errors import BenchError
from bench.reporting.leaderboard.board import build_leaderboards, load_run, rank, render


@pytest.fixture
def runs(tmp_path):
    return two_runs(tmp_path)


def test_unreliable_models_are_listed_below_the_reliable_ones_unranked(runs):
    # b (a failed masking check) and c (a failed sanity check) have the best worst case, 75%, but their numbers
    # are no evidence of robustness; d (50%) and a (25%) on 4 samples each cannot be told apart: they share rank 1.
    (board,) = build_leaderboards([load_run(r) for r in runs])
    f = board.frame
    assert board.dataset == "digits" and board.eps == 0.3
    assert f[["model", "suite"]].values.tolist() == [["d", "two"], ["a", "one"], ["b", "one"], ["c", "two"]]
    assert f["rank"].tolist()[:2] == [1, 1] and f["rank"].isna().tolist() == [False, False, True, True]
    assert f["worst_case"].tolist() == [0.5, 0.25, 0.75, 0.75]
    md = render([board], "md")
    assert "| – | b | one |" in md and "yes: masking fail: naive-adaptive-gap |" in md
    assert "yes: sanity fail: monotone (pgd) |" in md


def test_ties_share_the_lowest_rank_and_list_by_clean_accuracy():
    f = pd.DataFrame({"model": ["x", "y", "z"], "worst_case": [0.5, 0.5, 0.7], "clean_accuracy": [0.8, 0.9, 0.1]})
    out = rank(f)
    assert out[["model", "rank"]].values.tolist() == [["z", 1], ["y", 2], ["x", 2]]


def test_models_whose_intervals_overlap_share_a_rank():
    # p's interval lies above r's and s's; q overlaps p and r, so q shares p's rank, and r and s come after p only.
    f = pd.DataFrame(
        {
            "model": ["p", "q", "r", "s", "u"],
            "worst_case": [0.80, 0.70, 0.55, 0.50, 0.95],
            "worst_case_lo": [0.74, 0.60, 0.45, 0.40, 0.90],
            "worst_case_hi": [0.85, 0.78, 0.65, 0.60, 0.98],
            "clean_accuracy": [0.9] * 5,
            "unreliable": [False, False, False, False, True],
        }
    )
    out = rank(f)
    assert out["model"].tolist() == ["p", "q", "r", "s", "u"]
    assert out["rank"].tolist()[:4] == [1, 1, 2, 2] and pd.isna(out["rank"].iloc[4])


def test_columns_families_gap_flags_and_unreliable(runs):
    (board,) = build_leaderboards([load_run(r) for r in runs])
    f = board.frame.set_index("model")
    assert f.loc["b", "robust_pgd"] == 0.75 and f.loc["b", "robust_pgd_margin"] == 0.75
    assert f.loc["a", "robust_pgd"] == 0.25 and f.loc["a", "robust_pgd_margin"] == 0.75
    assert f.loc["a", "gap"] == pytest.approx(0.25 - 0.75)
    # The per-model gradient-masking summary row is not counted again.
    assert (f.loc["b", "flags_fail"], f.loc["b", "flags_warn"], f.loc["b", "unreliable"]) == (1, 1, True)
    # A failed sanity check makes a model unreliable too: the evaluation itself is broken.
    assert (f.loc["c", "flags_fail"], f.loc["c", "unreliable"], f.loc["c", "why"]) == (1, True, "sanity fail: monotone (pgd)")
    assert f.loc["b", "why"] == "masking fail: naive-adaptive-gap"
    assert f.loc["a", "flags_fail"] == 0 and not f.loc["a", "unreliable"]
    assert f.loc["b", "date"] == "2026-02-01T00:00:00+00:00" and f.loc["b", "spec_hash"] == "ab" * 32
    assert f.loc["c", "clean_accuracy"] == 1.0 and f.loc["c", "gap"] == pytest.approx(0.25)
    # The defences view: naive and adaptive worst cases (on the samples both attacked) whose difference is the gap.
    assert f.loc["a", "naive"] - f.loc["a", "adaptive"] == pytest.approx(f.loc["a", "gap"])
    assert f.loc["a", "naive_lo"] <= f.loc["a", "naive"] <= f.loc["a", "naive_hi"]
    md = render([board], "md")
    assert "**Defences: naive vs adaptive**" in md
    assert "| model | suite | clean | naive worst case | adaptive worst case | gap | masking verdict |" in md


def test_datasets_are_never_ranked_together(tmp_path, runs):
    mnist = run_folder(tmp_path, "mnist-run", records(*model_records("e", 1)), dataset="mnist")
    boards = build_leaderboards([load_run(r) for r in [*runs, mnist]])
    assert [(b.dataset, len(b.frame)) for b in boards] == [("digits", 4), ("mnist", 1)]
    assert boards[1].frame["rank"].tolist() == [1]
    md = render(boards, "md")
    assert "## digits: linf eps 0.3" in md and "## mnist: linf eps 0.3" in md
    csv = render(boards, "csv")
    assert csv.splitlines()[0].startswith("rank,model,suite,dataset,norm,eps")
    assert len(csv.splitlines()) == 6


def test_two_folders_of_one_suite_are_told_apart(tmp_path):
    a = run_folder(tmp_path / "before", "smoke", records(*model_records("m", 1)))
    b = run_folder(tmp_path / "after", "smoke", records(*model_records("m", 2)))
    md = render(build_leaderboards([load_run(a), load_run(b)]), "md")
    assert f"| 1 | m | smoke ({a}) |" in md and f"| 1 | m | smoke ({b}) |" in md  # 4 samples: the intervals overlap


def test_runs_without_a_common_eps_are_refused(tmp_path):
    a = run_folder(tmp_path, "a", records(*model_records("a", 1, eps=(0.1,))))
    b = run_folder(tmp_path, "b", records(*model_records("b", 1, eps=(0.2,))))
    runs = [load_run(a), load_run(b)]
    with pytest.raises(BenchError, match="share no finite linf eps"):
        build_leaderboards(runs)
    with pytest.raises(BenchError, match=r"--eps 0.1 \(linf\) was not evaluated for b/b"):
        build_leaderboards(runs, eps=0.1)
    with pytest.raises(BenchError, match="has l2 attacks"):
        build_leaderboards(runs, norm="l2")


def test_an_explicit_eps_picks_the_budget_and_min_norm_attacks_cover_any(tmp_path):
    r = run_folder(tmp_path, "r", records(clean("m", OK), min_norm("m", "cw", OK, [0.5, 1.0, 1.5, math.inf])))
    with pytest.raises(BenchError, match="without --eps"):
        build_leaderboards([load_run(r)], norm="l2")
    (board,) = build_leaderboards([load_run(r)], norm="l2", eps=1.0)
    assert board.frame[["robust_cw", "worst_case"]].values.tolist() == [[0.5, 0.5]]


def test_load_run_needs_a_run_folder_with_a_dataset(tmp_path, runs):
    with pytest.raises(BenchError, match="not a bench run folder"):
        load_run(tmp_path / "missing")
    (runs[0] / "manifest.json").unlink()
    with pytest.raises(BenchError, match="dataset is unknown"):
        load_run(runs[0])


def test_runs_on_different_evaluation_subsets_are_not_ranked_together(tmp_path):
    a = run_folder(tmp_path, "subset-a", records(*model_records("a", 1)), eval_fingerprint="1" * 64)
    b = run_folder(tmp_path, "subset-b", records(*model_records("b", 3)), eval_fingerprint="2" * 64)
    boards = build_leaderboards([load_run(a), load_run(b)])
    assert [list(board.frame["model"]) for board in boards] == [["a"], ["b"]]
    assert all(board.frame["rank"].tolist() == [1] for board in boards)
    text = render(boards, "md")
    assert "(group 1 of 2)" in text and "(group 2 of 2)" in text and "Evaluation set 111111111111" in text


def test_a_model_attacked_only_with_fgsm_never_outranks_one_attacked_with_cw(tmp_path):
    weak = run_folder(
        tmp_path, "weak", records(clean("w", OK), fixed("w", "fgsm", OK, {0.3: [True, False, False, False]}, use="torchattacks.fgsm"))
    )
    strong = run_folder(
        tmp_path,
        "strong",
        records(
            clean("s", OK),
            fixed("s", "fgsm", OK, {0.3: [True, False, False, False]}, use="torchattacks.fgsm"),
            min_norm("s", "cw", OK, [0.1, 0.1, 0.1, math.inf], norm="linf"),
        ),
    )
    boards = build_leaderboards([load_run(weak), load_run(strong)])
    assert len(boards) == 2 and {tuple(b.frame["model"]) for b in boards} == {("w",), ("s",)}
    row = next(b for b in boards if list(b.frame["model"]) == ["s"]).frame.iloc[0]
    assert (set(row["attacks"].split(", ")), row["n_samples"]) == ({"fgsm", "cw"}, 4)
