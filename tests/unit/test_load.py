"""Loading a suite (bench.spec.load): a table of bad specs with their exact one-line messages, overrides, files and paths."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from helpers.suites import BASE, SUITES, mutate

from bench.errors import SpecError
from bench.spec.load import apply_overrides, load_suite, parse_suite
from bench.spec.schema import view_name

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
    (
        "unknown param",
        lambda d: d["attacks"][1]["params"].update(stepz=3),
        "attacks[1].params.stepz: unknown field; did you mean 'steps'? (valid: steps, alpha, random_start)",
    ),
    (
        "another library's param name",
        lambda d: d["attacks"][5]["params"].update(confidence=1),
        "attacks[5].params.confidence: unknown field; did you mean 'kappa'? "
        "(valid: binary_search_steps, initial_const, max_iter, lr, kappa, tanh_scale, abort_early, targeted)",
    ),
    (
        "params for an attack without any",
        lambda d: d["attacks"][0].update(params={"steps": 3}),
        "attacks[0].params.steps: unknown field (valid: none, it takes no params)",
    ),
    (
        "linf eps in grey levels",
        lambda d: d["attacks"][0].update(eps=[0.1, 8]),
        "attacks[0].eps: 8 is more than 1 (linf), but inputs are in [0, 1]; budgets are on the [0, 1] scale: write 8/255 for 8 grey levels",
    ),
    (
        "l2 eps beyond the input space",
        lambda d: d["attacks"][5].update(eps=[9]),
        "attacks[5].eps: 9 is more than 8 (l2), but no two inputs in [0, 1]^64 are farther apart",
    ),
    ("eps not a number", lambda d: d["attacks"][0].update(eps=["8/x"]), "attacks[0].eps: '8/x' is not a number or a fraction like 8/255"),
    ("eps divides by zero", lambda d: d["attacks"][0].update(eps=["8/0"]), "attacks[0].eps: '8/0' divides by zero"),
    (
        "eval size beyond the test split",
        lambda d: d["dataset"].update(eval_size=5000),
        "dataset.eval_size: 5000 is more than the 360 test samples of digits",
    ),
    (
        "train size beyond the training split",
        lambda d: d["dataset"].update(train_size=2000),
        "dataset.train_size: 2000 is more than the 1437 training samples of digits",
    ),
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
        "models[0].teacher: teacher cycle a -> b -> a\n"
        "attacks[6].source: no model with id 'baseline'\n"
        "attacks[6].models: no model with id 'distilled'",
    ),
    (
        "duplicate model id",
        lambda d: d["models"][1].update(id="baseline"),
        "models[1].id: duplicate id 'baseline' (also models[0].id)\nmodels[2].teacher: no model with id 'teacher'",
    ),
    ("duplicate attack id", lambda d: d["attacks"][1].update(id="fgsm"), "attacks[1].id: duplicate id 'fgsm' (also attacks[0].id)"),
    (
        "unsafe id",
        lambda d: d["models"][0].update(id="../x"),
        "models[0].id: '../x' is not a safe id (letters, digits, '_' and '-', starting with a letter or digit, no '__')\n"
        "attacks[6].source: no model with id 'baseline'",
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
        "unknown defence",
        lambda d: d["models"][0].update(defence=[{"name": "jpg"}]),
        "models[0].defence[0].name: unknown defence 'jpg'; did you mean 'jpeg'? "
        "(known: bit-depth, median, jpeg, gaussian-noise, random-resize-pad)",
    ),
    (
        "defence without a name",
        lambda d: d["models"][0].update(defence=[{"bits": 3}]),
        "models[0].defence[0]: a defence step needs a name, one of bit-depth, median, jpeg, gaussian-noise, random-resize-pad",
    ),
    (
        "bad defence parameter",
        lambda d: d["models"][0].update(defence=[{"name": "bit-depth", "bits": 0}]),
        "models[0].defence[0].bits: input should be greater than or equal to 1",
    ),
    (
        "misspelt defence parameter",
        lambda d: d["models"][0].update(defence=[{"name": "jpeg", "qualty": 50}]),
        "models[0].defence[0].qualty: unknown field; did you mean 'quality'?",
    ),
    (
        "missing defence parameter",
        lambda d: d["models"][0].update(defence=[{"name": "gaussian-noise"}]),
        "models[0].defence[0].sigma: required field is missing",
    ),
    ("zero eval draws", lambda d: d["models"][0].update(eval_draws=0), "models[0].eval_draws: input should be greater than or equal to 1"),
    ("empty view", lambda d: d["attacks"][0].update(view={}), "attacks[0].view: a view mapping needs divide_logits_by, bpda: true or eot"),
    ("eot of one", lambda d: d["attacks"][0].update(view={"eot": 1}), "attacks[0].view.eot: input should be greater than or equal to 2"),
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
    # Every problem is one line with its YAML path; several problems are all reported, one per line.
    assert all(re.match(r"^[a-z_]+(\[\d+\]|\.[a-z_]+)*: ", line) for line in message.splitlines()), message


def test_every_error_is_reported_at_once_each_with_its_path():
    def three_mistakes(d):
        d["attacks"][0]["eps"] = [8]
        d["attacks"][1]["params"]["stepz"] = 3
        d["dataset"]["eval_size"] = 5000

    with pytest.raises(SpecError) as info:
        parse_suite(mutate(three_mistakes))
    lines = str(info.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["dataset.eval_size", "attacks[0].eps", "attacks[1].params.stepz"]
    with pytest.raises(SpecError) as info:
        parse_suite(mutate(lambda d: d["attacks"].extend({"id": f"x{i}", "use": "nope"} for i in range(30))))
    lines = str(info.value).splitlines()
    assert len(lines) == 21 and lines[-1] == "... and 10 more errors"


def test_structural_errors_are_all_reported_too():
    def two(d):
        d["attacks"][0]["eps"] = {"a": 1}
        d["models"][0]["train"]["epochs"] = "many"

    with pytest.raises(SpecError) as info:
        parse_suite(mutate(two))
    assert [line.split(":", 1)[0] for line in str(info.value).splitlines()] == ["models[0].train.epochs", "attacks[0].eps"]


def test_eps_accepts_fractions_and_a_single_number():
    spec = parse_suite(mutate(lambda d: d["attacks"][0].update(eps=["2/255", "8/255", 0.3])))
    assert spec.attacks[0].eps == [2 / 255, 8 / 255, 0.3]
    assert parse_suite(mutate(lambda d: d["attacks"][0].update(eps=0.3))).attacks[0].eps == [0.3]
    assert parse_suite(mutate(lambda d: d["attacks"][0].update(eps="8/255"))).attacks[0].eps == [8 / 255]
    assert parse_suite(apply_overrides(BASE, ["attacks.fgsm.eps=[4/255, 8/255]"])).attacks[0].eps == [4 / 255, 8 / 255]


def test_a_missing_checkpoint_is_a_spec_error_before_anything_runs(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(mutate(lambda d: d["models"][0].update(checkpoint="w/base.pt"))))
    with pytest.raises(SpecError, match=rf"^models\[0\]\.checkpoint: no such file {tmp_path / 'w' / 'base.pt'}$"):
        load_suite(path)


def test_table_is_large_enough():
    assert len(BAD_SPECS) >= 20


def test_shipped_suites_validate():
    paths = sorted(SUITES.glob("*.yaml"))
    assert len(paths) >= 8, f"expected the shipped suites in {SUITES}"
    for path in paths:
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


def test_bpda_and_eot_views_make_an_attack_adaptive_unless_its_spec_says_otherwise():
    def views(d):
        d["attacks"][0].update(view={"bpda": True})
        d["attacks"][1].update(view={"eot": 5}, tag="naive")

    spec = parse_suite(mutate(views))
    assert [a.tag for a in spec.attacks[:2]] == ["adaptive", "naive"]


def test_a_defence_leaves_the_hash_of_suites_without_one_alone_and_is_part_of_those_with_one():
    plain = parse_suite(BASE)
    assert "defence" not in plain.models[0].model_dump() and "eval_draws" not in plain.models[0].model_dump()
    jpeg = parse_suite(mutate(lambda d: d["models"][0].update(defence=[{"name": "jpeg"}])))
    assert jpeg.models[0].defence[0].quality == 75, "defaults resolved"
    assert jpeg.spec_hash() != plain.spec_hash()
    voted = parse_suite(mutate(lambda d: d["models"][0].update(eval_draws=5)))
    assert len({plain.spec_hash(), jpeg.spec_hash(), voted.spec_hash()}) == 3


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
    (tmp_path / "sub" / "w").mkdir(parents=True)
    (tmp_path / "sub" / "w" / "base.pt").write_bytes(b"")
    path = tmp_path / "sub" / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    spec = load_suite(path)
    assert spec.model("baseline").checkpoint == str(tmp_path / "sub" / "w" / "base.pt")


def test_only_a_baseline_is_adversarially_trained():
    data = copy.deepcopy(BASE)
    data["models"][1]["train"]["adversarial"] = {"eps": 0.3}
    data["models"][0]["train"]["adversarial"] = {"eps": 30}
    with pytest.raises(SpecError) as info:
        parse_suite(data)
    assert str(info.value).splitlines() == [
        "models[0].train.adversarial.eps: 30 is more than 1 (linf), but inputs are in [0, 1]; budgets are on the [0, 1] scale: "
        "write 30/255 for 30 grey levels",
        "models[1].train.adversarial: only a baseline is adversarially trained (kind is 'teacher')",
    ]


def test_an_autoattack_suite_without_the_package_says_how_to_install_it(monkeypatch):
    import importlib.util

    from bench.errors import SpecError
    from bench.spec.load import parse_suite

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyautoattack" else real(name, *a))
    data = {
        "name": "s",
        "dataset": {"name": "digits"},
        "models": [{"id": "m", "kind": "baseline", "arch": "tiny-mlp"}],
        "attacks": [{"id": "aa", "use": "aa.standard", "eps": [0.1]}],
    }
    with pytest.raises(SpecError, match=r"attacks\[0\]\.use: 'aa.standard' needs the package pyautoattack.*bench\[autoattack\]"):
        parse_suite(data)
