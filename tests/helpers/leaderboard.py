"""Two hand-built run folders for the leaderboard: four models, one of them tied, two unreliable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.report_fixtures import clean, fixed, records, run_folder

OK = [True] * 4


def model_records(m, pgd_breaks, eps=(0.1, 0.3), correct=OK):
    """A model attacked by naive PGD (breaking ``pgd_breaks`` samples at every eps) and adaptive margin PGD (sample 0)."""
    broken = [i < pgd_breaks for i in range(4)]
    return [
        clean(m, correct),
        fixed(m, "pgd", correct, {e: broken for e in eps}),
        fixed(m, "pgdm", correct, {e: [True, False, False, False] for e in eps}, use="bench.pgd_margin", tag="adaptive"),
    ]


FLAGS = pd.DataFrame(
    [
        {
            "model": "b",
            "attack": "",
            "check": "naive-adaptive-gap",
            "category": "masking",
            "verdict": "fail",
            "value": 0.5,
            "threshold": "",
            "message": "",
        },
        {
            "model": "b",
            "attack": "pgd",
            "check": "monotone",
            "category": "sanity",
            "verdict": "warn",
            "value": 0.1,
            "threshold": "",
            "message": "",
        },
        {
            "model": "b",
            "attack": "",
            "check": "gradient-masking",
            "category": "verdict",
            "verdict": "fail",
            "value": 2,
            "threshold": "",
            "message": "",
        },
        {
            "model": "c",
            "attack": "pgd",
            "check": "monotone",
            "category": "sanity",
            "verdict": "fail",
            "value": 0.1,
            "threshold": "",
            "message": "",
        },
    ]
)


def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    """Run folders one (models a, b) and two (c, d) under ``tmp_path``, with FLAGS."""
    # Worst case at 0.3 (margin PGD always breaks sample 0): a 3/4 broken -> 25%; b 1/4 -> 75%; c 1/4 -> 75%, a tie
    # with b; d 2/4 -> 50%.
    one = run_folder(
        tmp_path, "one", records(*model_records("a", 3), *model_records("b", 1)), flags=FLAGS, finished="2026-02-01T00:00:00+00:00"
    )
    two = run_folder(tmp_path, "two", records(*model_records("c", 0), *model_records("d", 2)), flags=FLAGS)
    return one, two
