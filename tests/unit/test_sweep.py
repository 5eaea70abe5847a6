"""Sweep expansion (temperatures, seeds) and its error paths."""

from __future__ import annotations

import pytest

from bench.errors import SpecError
from bench.spec.load import parse_suite
from bench.spec.plan import PlannedAttack, attack_plan, estimate_cost, model_seed


def suite(**extra):
    data = {
        "name": "sw",
        "dataset": {"name": "digits", "eval_size": 50},
        "models": [
            {"id": "baseline", "kind": "baseline", "arch": "tiny-mlp"},
            {"id": "teacher", "kind": "teacher", "arch": "tiny-mlp", "evaluate": False, "train": {"temperature": 100}},
            {"id": "distilled", "kind": "student", "teacher": "teacher", "arch": "tiny-mlp", "train": {"temperature": 100}},
        ],
        "attacks": [
            {"id": "fgsm", "use": "torchattacks.fgsm", "eps": [0.3]},
            {"id": "tr", "use": "torchattacks.fgsm", "eps": [0.3], "source": "baseline", "models": ["distilled"]},
        ],
    }
    data.update(extra)
    return data


def test_temperature_sweep_makes_one_pair_per_t():
    spec = parse_suite(suite(temperatures=[1, 10, 100]))
    ids = [m.id for m in spec.models]
    assert ids == ["baseline", "teacher-t1", "teacher-t10", "teacher-t100", "distilled-t1", "distilled-t10", "distilled-t100"]
    d10 = spec.model("distilled-t10")
    assert (d10.teacher, d10.train.temperature) == ("teacher-t10", 10.0)
    assert spec.model("baseline").train.temperature == 1.0
    assert spec.attacks[1].models == ["distilled-t1", "distilled-t10", "distilled-t100"]
    assert spec.temperatures is None, "the expanded spec carries no sweep, so re-parsing it changes nothing"
    assert parse_suite(spec.model_dump(mode="json")).spec_hash() == spec.spec_hash()


def test_seed_sweep_repeats_models_and_attacks_per_seed():
    spec = parse_suite(suite(seeds=[0, 1]))
    assert [m.id for m in spec.models] == ["baseline-s0", "teacher-s0", "distilled-s0", "baseline-s1", "teacher-s1", "distilled-s1"]
    assert spec.model("distilled-s1").teacher == "teacher-s1"
    assert model_seed(spec, "distilled-s1") == 1
    cells = attack_plan(spec)
    assert PlannedAttack("distilled-s1", 1, "baseline-s1") in cells, "a transfer source follows the target's seed"
    assert len(cells) == 2 * 2 + 2


def test_both_sweeps_combine():
    spec = parse_suite(suite(temperatures=[10, 100], seeds=[3]))
    assert "distilled-t100-s3" in [m.id for m in spec.models]
    assert spec.model("distilled-t100-s3").teacher == "teacher-t100-s3"


def test_fractional_temperatures_make_safe_ids():
    spec = parse_suite(suite(temperatures=[0.5]))
    assert "distilled-t0p5" in [m.id for m in spec.models]


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"temperatures": [0, 10]}, "temperatures: values must be positive"),
        ({"seeds": [1, 1]}, "seeds: values must be distinct and non-negative"),
        ({"temperatures": []}, "temperatures: list should have at least 1 item after validation, not 0"),
        ({"temperaturs": [1]}, "temperaturs: unknown field; did you mean 'temperatures'?"),
    ],
)
def test_sweep_errors_name_the_yaml_path(extra, message):
    with pytest.raises(SpecError) as info:
        parse_suite(suite(**extra))
    assert str(info.value) == message


def test_errors_in_swept_models_name_the_unexpanded_path():
    data = suite(temperatures=[1, 10])
    data["models"][2]["train"]["epochz"] = 3
    with pytest.raises(SpecError, match=r"^models\[2\]\.train\.epochz: unknown field; did you mean 'epochs'\?$"):
        parse_suite(data)


def test_id_collisions_from_a_sweep_are_refused():
    data = suite(temperatures=[10])
    data["models"].append({"id": "distilled-t10", "kind": "baseline", "arch": "tiny-mlp"})
    with pytest.raises(SpecError, match="the sweep makes the id 'distilled-t10' twice"):
        parse_suite(data)


@pytest.mark.parametrize("temps", [[1, 10], [10]])
def test_transfer_source_cannot_be_temperature_swept(temps):
    data = suite(temperatures=temps)
    data["attacks"][1]["source"] = "distilled"
    data["attacks"][1]["models"] = ["baseline"]
    with pytest.raises(SpecError, match="which the temperature sweep copies"):
        parse_suite(data)


def test_cost_estimate_grows_with_the_sweep():
    one = estimate_cost(parse_suite(suite()), attack_plan(parse_suite(suite())))
    spec = parse_suite(suite(temperatures=[1, 10, 100]))
    three = estimate_cost(spec, attack_plan(spec))
    assert three[0] > 2 * one[0] and three[1] > 2 * one[1]
