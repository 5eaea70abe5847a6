"""Spec validation: a table of bad specs with their exact one-line messages."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bench.errors import SpecError
from bench.spec.load import apply_overrides, load_suite, parse_suite
from bench.spec.schema import view_name

SUITES = Path(__file__).resolve().parents[2] / "suites"
BASE = yaml.safe_load((SUITES / "smoke.yaml").read_text())


def mutate(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


BAD_SPECS = [
    (
        "separator in id",
        lambda d: d["attacks"][0].update(id="a__b"),
        "attacks[0].id: 'a__b' is not a safe id (letters, digits, '_' and '-', starting with a letter or digit, no '__')",
    ),
    (
        "duplicate eps",
        lambda d: d["attacks"][0].update(eps=[0.1, 0.1]),
        "attacks[0].eps: values must be strictly increasing (no duplicates)",
    ),
    (
        "infinite eps",
        lambda d: d["attacks"][0].update(eps=[0.1, float("inf")]),
        "attacks[0].eps: values must be finite; minimum-norm attacks always report an unbounded row",
    ),
    (
        "empty models list",
        lambda d: d["attacks"][0].update(models=[]),
        "attacks[0].models: list should have at least 1 item after validation, not 0",
    ),
    (
        "arch does not fit the data",
        lambda d: d["models"][0].update(arch="papernot-mnist"),
        "models[0].arch: 'papernot-mnist' does not fit 1x8x8 inputs of digits",
    ),
    ("unknown top-level", lambda d: d.update(nmae="x"), "nmae: unknown field; did you mean 'name'?"),
    ("unknown param", lambda d: d["attacks"][1]["params"].update(stepz=3), "attacks[1].params.stepz: unknown field; did you mean 'steps'?"),
    ("unknown model field", lambda d: d["models"][0].update(archh="x"), "models[0].archh: unknown field; did you mean 'arch'?"),
    (
        "unknown train field",
        lambda d: d["models"][0]["train"].update(epoch=3),
        "models[0].train.epoch: unknown field; did you mean 'epochs'?",
    ),
    (
        "wrong type epochs",
        lambda d: d["models"][0]["train"].update(epochs="many"),
        "models[0].train.epochs: input should be a valid integer, unable to parse string as an integer",
    ),
    ("negative eps", lambda d: d["attacks"][0].update(eps=[-0.1, 0.3]), "attacks[0].eps: values must be non-negative"),
    ("unsorted eps", lambda d: d["attacks"][0].update(eps=[0.3, 0.1]), "attacks[0].eps: values must be sorted ascending"),
    (
        "unknown attack",
        lambda d: d["attacks"][0].update(use="torchattacks.fgsn"),
        "attacks[0].use: unknown attack 'torchattacks.fgsn'; did you mean 'torchattacks.fgsm'?",
    ),
    (
        "unknown arch",
        lambda d: d["models"][0].update(arch="small-cn"),
        "models[0].arch: unknown architecture 'small-cn'; did you mean 'small-cnn'?",
    ),
    ("unknown dataset", lambda d: d["dataset"].update(name="mnits"), "dataset.name: unknown dataset 'mnits'; did you mean 'mnist'?"),
    (
        "missing teacher",
        lambda d: d["models"][2].update(teacher="teachr"),
        "models[2].teacher: no model with id 'teachr'; did you mean 'teacher'?",
    ),
    ("student without teacher", lambda d: d["models"][2].pop("teacher"), "models[2].teacher: a student needs a teacher"),
    (
        "teacher cycle",
        lambda d: d["models"].__setitem__(
            slice(None),
            [dict(id="a", kind="student", teacher="b", arch="tiny-mlp"), dict(id="b", kind="student", teacher="a", arch="tiny-mlp")],
        ),
        "models[0].teacher: teacher cycle a -> b -> a (and 2 more)",
    ),
    (
        "duplicate model id",
        lambda d: d["models"][1].update(id="baseline"),
        "models[1].id: duplicate id 'baseline' (also models[0].id) (and 1 more)",
    ),
    ("duplicate attack id", lambda d: d["attacks"][1].update(id="fgsm"), "attacks[1].id: duplicate id 'fgsm' (also attacks[0].id)"),
    (
        "unsafe id",
        lambda d: d["models"][0].update(id="../x"),
        "models[0].id: '../x' is not a safe id (letters, digits, '_' and '-', starting with a letter or digit, no '__') (and 1 more)",
    ),
    (
        "bad kind",
        lambda d: d["models"][0].update(kind="defended"),
        "models[0].kind: input should be 'baseline', 'teacher', 'student' or 'external'",
    ),
    ("missing use", lambda d: d["attacks"][0].pop("use"), "attacks[0].use: required field is missing"),
    (
        "bad param value",
        lambda d: d["attacks"][1]["params"].update(steps=0),
        "attacks[1].params.steps: input should be greater than or equal to 1",
    ),
    ("bad norm", lambda d: d["attacks"][0].update(norm="l2"), "attacks[0].norm: 'torchattacks.fgsm' supports linf, not 'l2'"),
    (
        "fixed without eps",
        lambda d: d["attacks"][0].update(eps=[]),
        "attacks[0].eps: 'torchattacks.fgsm' is a fixed-budget attack and needs at least one eps",
    ),
    ("bad view", lambda d: d["attacks"][0].update(view="softmax"), "attacks[0].view: input should be 'logits' or 'probs'"),
    (
        "bad view field",
        lambda d: d["attacks"][0].update(view={"divide_by": 10}),
        "attacks[0].view.divide_by: unknown field; did you mean 'divide_logits_by'?",
    ),
    (
        "unknown source",
        lambda d: d["attacks"][6].update(source="basline"),
        "attacks[6].source: no model with id 'basline'; did you mean 'baseline'?",
    ),
    ("reserved id", lambda d: d["attacks"][0].update(id="clean"), "attacks[0].id: 'clean' is reserved for clean-accuracy records"),
    ("eval size zero", lambda d: d["dataset"].update(eval_size=0), "dataset.eval_size: input should be greater than or equal to 1"),
    (
        "teacher on baseline",
        lambda d: d["models"][0].update(teacher="teacher"),
        "models[0].teacher: only a student has a teacher (kind is 'baseline')",
    ),
    ("models empty", lambda d: d.update(models=[]), "models: list should have at least 1 item after validation, not 0"),
    (
        "negative temperature",
        lambda d: d["models"][1]["train"].update(temperature=-1),
        "models[1].train.temperature: input should be greater than 0",
    ),
    (
        "bad name",
        lambda d: d.update(name="my suite/x"),
        "name: 'my suite/x' is not a safe folder name (letters, digits, '_' and '-', no '__')",
    ),
]


@pytest.mark.parametrize("name,change,message", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_message(name, change, message):
    with pytest.raises(SpecError) as info:
        parse_suite(mutate(change))
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_table_is_large_enough():
    assert len(BAD_SPECS) >= 20


def test_shipped_suites_validate():
    for path in SUITES.glob("*.yaml"):
        spec = load_suite(path)
        assert spec.name
        assert spec.spec_hash() == load_suite(path).spec_hash()


def test_defaults_are_resolved_from_the_registry():
    spec = parse_suite(BASE)
    fgsm, pgd, jsma, transfer = spec.attacks[0], spec.attacks[1], spec.attacks[3], spec.attacks[6]
    assert (fgsm.norm, fgsm.tag) == ("linf", "naive")
    assert pgd.params == {"steps": 10, "alpha": None, "random_start": True}
    assert (jsma.norm, view_name(jsma.view)) == ("l0", "probs")
    assert transfer.tag == "transfer"


def test_spec_is_frozen():
    spec = parse_suite(BASE)
    with pytest.raises(ValidationError, match="frozen"):
        spec.seed = 3  # type: ignore[misc]


def test_overrides_address_list_items_by_id_and_go_through_validation():
    data = apply_overrides(BASE, ["models.distilled.train.epochs=2", "dataset.eval_size=50", "attacks.0.eps=[0.1]"])
    spec = parse_suite(data)
    assert spec.model("distilled").train.epochs == 2
    assert spec.dataset.eval_size == 50
    assert spec.attacks[0].eps == [0.1]
    with pytest.raises(SpecError, match=r"^dataset.eval_size: input should be a valid integer"):
        parse_suite(apply_overrides(BASE, ["dataset.eval_size=lots"]))
    with pytest.raises(SpecError, match=r"^--set models.nobody.seed: no list item 'nobody'$"):
        apply_overrides(BASE, ["models.nobody.seed=1"])
    with pytest.raises(SpecError, match=r"expected dotted.key=value"):
        apply_overrides(BASE, ["seed"])


def test_view_divide_logits_by():
    data = mutate(lambda d: d["attacks"][0].update(view={"divide_logits_by": 100}))
    assert view_name(parse_suite(data).attacks[0].view) == "logits/100"


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "the file is empty"),
        ("name: [unclosed", "not valid YAML at line 1"),
        ("- just\n- a list\n", "the spec must be a YAML mapping, got list"),
        ("!!python/object/apply:os.system ['echo hi']", "not valid YAML at line 1"),
    ],
)
def test_bad_files(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_suite(path)
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_suite(tmp_path / "nope.yaml")


def test_relative_paths_resolve_against_the_spec_file(tmp_path):
    data = mutate(lambda d: d["models"][0].update(checkpoint="w/base.pt"))
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    spec = load_suite(path)
    assert spec.model("baseline").checkpoint == str(tmp_path / "sub" / "w" / "base.pt")
