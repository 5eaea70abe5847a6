"""The spec's vocabulary (bench.spec.schema): defaults, the eps parser, ids, views, and what the spec hash leaves out."""

from __future__ import annotations

import pytest
from helpers.suites import BASE, SMOKE, mutate
from pydantic import ValidationError

from bench.errors import SpecError
from bench.spec.load import load_suite, parse_suite
from bench.spec.schema import AdversarialSpec, ExecutorSpec, seed_id, split_seed, view_name


def test_fgsm_rs_defaults_follow_wong_et_al_and_reject_settings_it_would_ignore():
    spec = AdversarialSpec(eps="0.3")
    assert (spec.method, spec.norm, spec.n_steps, spec.alpha) == ("fgsm-rs", "linf", 1, pytest.approx(0.375))
    assert AdversarialSpec(method="pgd", eps=0.3, steps=40).alpha == pytest.approx(2.5 * 0.3 / 40)
    with pytest.raises(ValidationError, match="fgsm-rs takes one step from a random start; steps applies to method: pgd"):
        AdversarialSpec(eps=0.3, steps=10)


def test_the_suite_may_name_its_executor_without_changing_its_hash():
    plain = load_suite(SMOKE)
    on_dask = load_suite(SMOKE, ["executor={kind: dask, workers: 4}"])
    assert on_dask.executor == ExecutorSpec(kind="dask", workers=4)
    assert on_dask.spec_hash() == plain.spec_hash()
    with pytest.raises(SpecError, match=r"executor\.workerz: unknown field; did you mean 'workers'\?"):
        load_suite(SMOKE, ["executor={kind: dask, workerz: 4}"])


@pytest.mark.parametrize(
    "item, expected",
    [
        ("distilled-s1", ("distilled", "1")),
        ("distilled-t20-s12", ("distilled-t20", "12")),
        ("distilled-t20", ("distilled-t20", None)),
        ("pgd", ("pgd", None)),
        ("-s1", ("-s1", None)),
        ("s1", ("s1", None)),
    ],
)
def test_split_seed(item, expected):
    assert split_seed(item) == expected


@pytest.mark.parametrize("base, seed", [("distilled", 0), ("distilled-t20", 12), ("a-s1", 3)])
def test_seed_id_and_split_seed_are_inverses(base, seed):
    assert split_seed(seed_id(base, seed)) == (base, str(seed))


@pytest.mark.parametrize(
    ("text", "value"), [("8/255", 8 / 255), (" 0.5 / 255 ", 0.5 / 255), ("1e-2", 0.01), (".3", 0.3), (3, 3.0), ("-1/2", -0.5)]
)
def test_fraction_parser(text, value):
    from bench.spec.schema import parse_fraction

    assert parse_fraction(text) == value


@pytest.mark.parametrize("text", ["8/255/2", "__import__('os')", "2**8", "1/x", "", True, None])
def test_fraction_parser_refuses_anything_but_a_number_or_fraction(text):
    from bench.spec.schema import parse_fraction

    with pytest.raises(ValueError):
        parse_fraction(text)


def test_strict_does_not_change_the_spec_hash():
    assert parse_suite(mutate(lambda d: d.update(strict=True))).spec_hash() == parse_suite(BASE).spec_hash()
    assert parse_suite(mutate(lambda d: d.update(strict=True))).strict


def test_spec_is_frozen():
    spec = parse_suite(BASE)
    with pytest.raises(ValidationError, match="frozen"):
        spec.seed = 3  # type: ignore[misc]


def test_view_divide_logits_by():
    data = mutate(lambda d: d["attacks"][0].update(view={"divide_logits_by": 100}))
    assert view_name(parse_suite(data).attacks[0].view) == "logits/100"


@pytest.mark.parametrize(
    "claim, message",
    [
        (
            "{robust_accuracy: 89, norm: linf, eps: 0.3, source: x}",
            "models[2].claimed.robust_accuracy: input should be less than or equal to 1",
        ),
        ("{robust_accuracy: 0.8, norm: linf, eps: 0.3, sorce: x}", "models[2].claimed.sorce: unknown field; did you mean 'source'?"),
        ("{robust_accuracy: 0.8, norm: linf, eps: 8/0, source: x}", "models[2].claimed.eps: '8/0' divides by zero"),
    ],
)
def test_a_bad_claim_is_refused_with_its_path(claim, message):
    with pytest.raises(SpecError) as exc:
        load_suite(SMOKE, [f"models.2.claimed={claim}"])
    assert str(exc.value) == message


def test_fp32_training_written_out_keeps_the_spec_hash_and_bf16_changes_it():
    base = load_suite(SMOKE)
    fp32 = load_suite(SMOKE, ["models.baseline.train.precision=fp32"])
    bf16 = load_suite(SMOKE, ["models.baseline.train.precision=bf16"])
    assert fp32.spec_hash() == base.spec_hash() != bf16.spec_hash()
    with pytest.raises(SpecError, match="precision"):
        load_suite(SMOKE, ["models.baseline.train.precision=fp16"])
