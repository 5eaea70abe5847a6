"""The Dask executor's driver (bench.pipeline.executors.dask): the code digests it sends its workers."""

from __future__ import annotations

from pathlib import Path

from bench.pipeline.executors.dask import planned_code
from bench.spec.load import load_suite


def test_the_driver_sends_a_digest_for_every_kind_of_cell_the_suite_has():
    suite = load_suite(Path(__file__).resolve().parents[2] / "suites" / "smoke.yaml")
    kinds = dict(planned_code(suite))
    assert {"evaluate"} | {f"train:{m.arch}" for m in suite.models} | {f"attack:{a.use}" for a in suite.attacks} == set(kinds)
    defences = load_suite(Path(__file__).resolve().parents[2] / "suites" / "mnist-defences.yaml")
    assert "train:papernot-mnist:adversarial" in dict(planned_code(defences)), "adversarial training is other code"
