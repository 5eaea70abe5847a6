"""The cost table (bench.results.costs): training totals that count a teacher once, accuracy against cost, the run folder's cost files."""

from __future__ import annotations

import json
import math

import pandas as pd
from helpers.costs import SPEC, cost_body

from bench.results.costs import accuracy_vs_cost, cost_table, run_training_seconds, starved_training


def test_a_students_training_cost_includes_its_teacher_once_and_the_run_counts_each_model_once():
    bodies = [
        cost_body("s100", 100, 3.0, [10.0]),
        cost_body("teacher", 1000, 10.0, []),
        cost_body("s1", 100, 2.0, [10.0]),
    ]
    t = cost_table(bodies, SPEC)
    assert list(t["model"]) == ["teacher", "s1", "s100"], "in the spec's order"
    row = t.set_index("model")
    assert (row.at["s1", "train_seconds"], row.at["s1", "total_train_seconds"], row.at["s1", "total_epochs"]) == (2.0, 12.0, 10)
    assert row.at["teacher", "total_train_seconds"] == 10.0
    assert (row.at["s100", "kind"], row.at["s100", "temperature"], row.at["s100", "teacher"]) == ("student", 100.0, "teacher")
    # Two students share the teacher: the run trained it once.
    assert run_training_seconds(t) == 10.0 + 2.0 + 3.0


def test_an_unknown_training_cost_is_nan_not_zero():
    t = cost_table([cost_body("ckpt", 10, None, [])], SPEC)
    assert math.isnan(t["train_seconds"].iloc[0]) and math.isnan(t["total_train_seconds"].iloc[0])
    assert math.isnan(run_training_seconds(t))


def test_a_training_that_got_little_cpu_is_told_from_a_costly_one():
    # 546 s of wall time with 160 s of CPU: paused for minutes (the base-half); 81 s wall on 2 threads, 150 s CPU: busy.
    bodies = [
        cost_body("teacher", 1000, 81.0, [], cpu=150.0),
        cost_body("s1", 100, 546.0, [81.0], cpu=160.0),
        cost_body("ckpt", 10, None, []),
    ]
    t = cost_table(bodies, SPEC).set_index("model")
    assert (t.at["s1", "train_cpu_seconds"], t.at["teacher", "train_cpu_seconds"]) == (160.0, 150.0)
    assert math.isnan(t.at["s1", "total_train_cpu_seconds"]), "the teacher link of s1's chain has no CPU time in this fake"
    assert math.isnan(t.at["ckpt", "train_cpu_seconds"])
    starved = starved_training(t.reset_index())
    assert list(starved) == ["s1"] and "wall 546 s but CPU 160 s" in starved["s1"]


def test_accuracy_vs_cost_takes_naive_and_adaptive_worst_cases_at_the_eps_every_model_shares():
    t = cost_table([cost_body("teacher", 1000, 10.0, []), cost_body("s1", 100, 2.0, [10.0])], SPEC)
    clean = pd.DataFrame({"model": ["teacher", "s1"], "clean_accuracy": [0.99, 0.98]})
    nva = pd.DataFrame(
        {
            "model": ["teacher", "teacher", "teacher", "s1", "s1", "s1"],
            "norm": ["linf", "linf", "linf", "linf", "linf", "l2"],
            "eps": [0.05, 0.1, 0.3, 0.1, 0.3, 2.0],
            "naive_robust_accuracy": [0.9, 0.8, 0.7, 0.95, 0.9, 0.5],
            "adaptive_robust_accuracy": [0.6, 0.5, 0.1, 0.4, 0.02, 0.3],
        }
    )
    frame, norm, eps = accuracy_vs_cost(t, clean, nva)
    assert (norm, eps) == ("linf", [0.1, 0.3]), "0.05 is not shared by s1; L2 is not the chosen norm"
    assert list(frame["adaptive@0.3"]) == [0.1, 0.02] and list(frame["naive@0.3"]) == [0.7, 0.9]
    assert list(frame["adaptive@0.1"]) == [0.5, 0.4] and list(frame["clean_accuracy"]) == [0.99, 0.98]


def test_cost_file_round_trip_through_the_run_folder(tmp_path):
    from bench.results.costs import read_costs

    run = tmp_path / "run"
    (run / "records").mkdir(parents=True)
    (run / "costs").mkdir()
    for name, body in [("teacher.a.json", cost_body("teacher", 1000, 10.0, [])), ("s1.b.json", cost_body("s1", 100, 2.0, [10.0]))]:
        (run / "costs" / name).write_text(json.dumps(body))
    (run / "costs" / "old.c.json").write_text(json.dumps(cost_body("old", 5, 1.0, [])))
    manifest = {"spec": SPEC, "costs": {"teacher": {"file": "costs/teacher.a.json"}, "s1": {"file": "costs/s1.b.json"}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert list(read_costs(run)["model"]) == ["teacher", "s1"], "only the files the last run names"


def test_the_training_precision_is_a_column_and_every_model_trained_before_it_was_fp32():
    bf16, old, ckpt = cost_body("s1", 100, 2.0, []), cost_body("teacher", 1000, 10.0, []), cost_body("ckpt", 10, None, [])
    bf16["training"] = {**bf16["training"], "origin": "store", "precision": "bf16"}  # type: ignore[dict-item]
    old["training"] = {**old["training"], "origin": "store"}  # type: ignore[dict-item]
    ckpt["training"] = {**ckpt["training"], "origin": "checkpoint"}  # type: ignore[dict-item]
    t = cost_table([bf16, old, ckpt], SPEC).set_index("model")
    assert t["train_precision"].to_dict() == {"teacher": "fp32", "s1": "bf16", "ckpt": ""}
