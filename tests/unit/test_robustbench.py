"""RobustBench entries (bench.reporting.export.robustbench): the agreed fields, the leaderboard's numbers and its verdict."""

from __future__ import annotations

import json

import pandas as pd
from helpers.leaderboard import OK, two_runs
from helpers.report_fixtures import clean, fixed, records, run_folder

from bench.reporting.export.robustbench import file_name, robustbench_entries
from bench.reporting.leaderboard.board import build_leaderboards, load_run
from bench.results.run_folder import RunFolder

KEYS = [
    "link",
    "name",
    "authors",
    "additional_data",
    "number_forward_passes",
    "dataset",
    "venue",
    "architecture",
    "eps",
    "clean_acc",
    "reported",
    "autoattack_acc",
    "external",
    "footnote",
    "unreliable",
]


def entries(run_dir, eps=None):
    return robustbench_entries(load_run(run_dir), RunFolder(run_dir).manifest.get("spec"), eps)


def test_unreliable_is_exactly_the_leaderboards_refusal_to_rank(tmp_path):
    for run in two_runs(tmp_path):
        (board,) = build_leaderboards([load_run(run)])
        unranked = {m: pd.isna(r) for m, r in zip(board.frame["model"], board.frame["rank"], strict=True)}
        got = {e["name"]: e["unreliable"] for e in entries(run).values()}
        assert got == unranked
    assert {e["name"]: e["unreliable"] for e in entries(two_runs(tmp_path / "x")[0]).values()} == {"a": False, "b": True}


def test_an_entry_has_the_agreed_fields_and_the_leaderboards_numbers(tmp_path):
    one, _ = two_runs(tmp_path)
    out = entries(one)
    assert sorted(map(str, out)) == ["model_info/digits/Linf/a.json", "model_info/digits/Linf/b.json"]
    a, b = (out[p] for p in sorted(out))
    assert list(a) == KEYS
    assert (a["name"], a["dataset"], a["eps"], a["clean_acc"], a["autoattack_acc"], a["reported"]) == (
        "a",
        "digits",
        "0.3",
        "100.00",
        "25.00",
        "",
    )
    assert (a["additional_data"], a["number_forward_passes"], a["unreliable"]) == (False, 1, False)
    assert a["footnote"].startswith(
        "autoattack_acc is not AutoAttack's (it did not run): it is bench's per-sample worst case over every Linf"
    )
    assert "on 4 samples" in a["footnote"]
    assert b["autoattack_acc"] == "75.00" and "Unreliable: masking fail: naive-adaptive-gap" in b["footnote"]
    json.dumps(a)  # plain JSON values


def test_autoattack_fills_autoattack_acc_where_it_ran_and_a_claim_fills_reported(tmp_path):
    recs = records(
        clean("m", OK),
        fixed("m", "pgd", OK, {8 / 255: [True, False, False, False]}),
        fixed("m", "aa", OK, {8 / 255: [False, True, False, False]}, use="aa.standard", tag="adaptive"),
    )
    run = run_folder(tmp_path, "aa", recs)
    manifest = json.loads((run / "manifest.json").read_text())
    model = manifest["spec"]["models"][0]
    model |= {"arch": "small-cnn", "eval_draws": 5, "claimed": {"robust_accuracy": 0.9, "norm": "linf", "eps": 8 / 255, "source": "paper"}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    (e,) = entries(run).values()
    # AutoAttack broke one of four samples (75%); the worst case over both attacks is 50%: AutoAttack's number is the one.
    assert (e["eps"], e["autoattack_acc"], e["reported"], e["architecture"], e["number_forward_passes"]) == (
        "8/255",
        "75.00",
        "90.00",
        "small-cnn",
        5,
    )
    assert e["footnote"].startswith("autoattack_acc is AutoAttack (aa.standard) robust accuracy at Linf eps 8/255")
    assert "Claimed: 90.0% at L∞ eps 8/255 (paper)." in e["footnote"]


def test_l0_is_not_exported_and_file_names_are_safe(tmp_path):
    recs = records(clean("m", OK), fixed("m", "jsma", OK, {10.0: [True, False, False, False]}, use="art.jsma", norm="l0"))
    assert entries(run_folder(tmp_path, "l0", recs)) == {}
    assert file_name("a b/c:d") == "a_b_c_d" and file_name("distilled-t20_s1") == "distilled-t20_s1"


def test_a_norm_attacked_only_without_a_budget_has_no_entries(tmp_path):
    from helpers.report_fixtures import min_norm

    recs = records(clean("m", OK), fixed("m", "pgd", OK, {0.3: [True, False, False, False]}), min_norm("m", "cw", OK, [0.5, 1.0, 2.0, 3.0]))
    run = run_folder(tmp_path, "mixed", recs)
    assert sorted(map(str, entries(run))) == ["model_info/digits/Linf/m.json"]
    assert robustbench_entries(load_run(run), None, None, "l2") == {}


def test_the_footnote_counts_autoattacks_own_samples_when_it_ran_on_fewer_than_the_worst_case(tmp_path):
    recs = records(
        clean("m", OK),
        fixed("m", "pgd", OK, {0.3: [True, False, False, False]}),
        fixed("m", "aa", OK[:2], {0.3: [False, True]}, use="aa.standard", tag="adaptive"),  # n_samples: 2
    )
    (board,) = build_leaderboards([load_run(run_folder(tmp_path, "aa2", recs))])
    assert (board.frame["n_samples"].iloc[0], board.frame["n_autoattack"].iloc[0], board.frame["robust_autoattack"].iloc[0]) == (4, 2, 0.5)
    (e,) = entries(tmp_path / "aa2").values()
    assert e["autoattack_acc"] == "50.00" and "robust accuracy at Linf eps 0.3, measured by bench on 2 samples." in e["footnote"]
