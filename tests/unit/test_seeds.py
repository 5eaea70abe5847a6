"""Across seeds (bench.results.seeds): seed aggregation, and temperatures from the manifest."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.results.seeds import SEED_COLUMNS, seed_aggregate, seed_replicates, temperature_sweep


def _summary(rows):
    return pd.DataFrame(
        [{"model": m, "attack": a, "norm": "linf", "eps": 0.3, "robust_accuracy": r, "attack_success_rate": s} for m, a, r, s in rows]
    )


REPLICATES = {
    "distilled-s0": ("distilled", 0),
    "distilled-s1": ("distilled", 1),
    "distilled-s2": ("distilled", 2),
    "distilled-t20-s0": ("distilled-t20", 0),
    "distilled-t20-s1": ("distilled-t20", 1),
    "lonely-s3": ("lonely", 3),
}


def test_mean_and_sample_std_across_seeds_per_base_model_and_attack():
    summary = _summary(
        [
            ("distilled-s0", "pgd", 0.1, 0.9),
            ("distilled-s1", "pgd", 0.2, 0.8),
            ("distilled-s2", "pgd", 0.3, 0.7),
            ("distilled-t20-s0", "pgd", 0.5, 0.5),
            ("distilled-t20-s1", "pgd", 0.7, 0.3),
            ("baseline", "pgd", 0.0, 1.0),
            ("lonely-s3", "pgd", 0.4, 0.6),
        ]
    )
    clean = pd.DataFrame({"model": ["distilled-s0", "distilled-s1", "baseline"], "clean_accuracy": [0.9, 0.8, 0.99]})
    out = seed_aggregate(summary, clean, REPLICATES)
    assert list(out.columns) == SEED_COLUMNS
    row = out[(out["model"] == "distilled") & (out["attack"] == "pgd")].iloc[0]
    assert row["n_seeds"] == 3 and row["seeds"] == "0 1 2"
    assert row["accuracy_mean"] == pytest.approx(0.2) and row["accuracy_std"] == pytest.approx(0.1)
    assert row["success_mean"] == pytest.approx(0.8) and row["success_std"] == pytest.approx(0.1)
    t20 = out[out["model"] == "distilled-t20"].iloc[0]
    assert t20["accuracy_mean"] == pytest.approx(0.6) and t20["accuracy_std"] == pytest.approx(math.sqrt(0.02))
    c = out[out["attack"] == "clean"].iloc[0]
    assert (c["model"], c["n_seeds"], c["accuracy_mean"]) == ("distilled", 2, pytest.approx(0.85))
    assert math.isnan(c["success_mean"])
    # No base with a single member and no model outside the sweep forms a group.
    assert set(out["model"]) == {"distilled", "distilled-t20"}


def test_ids_that_only_look_like_replicates_are_not_pooled():
    # Attacks are never copied per seed, and a model merely named "-s<n>" (no seed in its spec) is not a replicate.
    rows = [("m", "pgd-s0", 0.2, 0.8), ("m", "pgd-s1", 0.4, 0.6), ("net-s1", "pgd", 0.1, 0.9), ("net-s2", "pgd", 0.3, 0.7)]
    no_clean = pd.DataFrame(columns=["model", "clean_accuracy"])
    named_only = seed_replicates({"models": [{"id": "m", "seed": None}, {"id": "net-s1", "seed": None}, {"id": "net-s2", "seed": None}]})
    assert named_only == {}
    assert len(seed_aggregate(_summary(rows), no_clean, named_only)) == 0
    # The same rows, with the two nets declared as seed copies in the spec, are pooled; the attacks still are not.
    declared = seed_replicates({"models": [{"id": "m", "seed": None}, {"id": "net-s1", "seed": 1}, {"id": "net-s2", "seed": 2}]})
    pooled = seed_aggregate(_summary(rows), no_clean, declared)
    assert list(zip(pooled["model"], pooled["attack"], strict=True)) == [("net", "pgd")]


def test_seed_replicates_come_from_the_spec_not_the_name():
    spec = {
        "models": [
            {"id": "distilled-s0", "seed": 0},
            {"id": "distilled-s1", "seed": 1},
            {"id": "net-s1", "seed": None},  # a user's name, not a sweep copy
            {"id": "odd-s2", "seed": 5},  # its id does not say its seed
        ]
    }
    assert seed_replicates(spec) == {"distilled-s0": ("distilled", 0), "distilled-s1": ("distilled", 1)}
    assert seed_replicates(None) == {}


def test_no_sweep_gives_an_empty_table_with_columns():
    out = seed_aggregate(_summary([("a", "pgd", 0.1, 0.9), ("b", "pgd", 0.2, 0.8)]), pd.DataFrame(columns=["model", "clean_accuracy"]), {})
    assert len(out) == 0 and list(out.columns) == SEED_COLUMNS


def test_temperature_sweep_holds_only_the_swept_copies():
    spec = {
        "models": [
            {"id": "baseline", "train": {}},
            {"id": "teacher-t1", "train": {"temperature": 1}},
            {"id": "distilled-t1", "teacher": "teacher-t1", "train": {"temperature": 1.0}},
            {"id": "distilled-t0p5", "train": {"temperature": 0.5}},
            {"id": "distilled-t100-s1", "train": {"temperature": 100.0}, "seed": 1},
            {"id": "named-t3", "train": {"temperature": 1.0}},  # a name, not a sweep copy: its T is not 3
        ]
    }
    assert temperature_sweep(spec) == {"distilled-t1": 1.0, "distilled-t0p5": 0.5, "distilled-t100-s1": 100.0}
    # The default suite sweeps nothing: the baseline at T=1 and a student at T=100 are not a sweep.
    plain = {"models": [{"id": "baseline", "train": {}}, {"id": "distilled", "train": {"temperature": 100}}]}
    assert temperature_sweep(plain) == {} and temperature_sweep(None) == {}
