"""Cache keys (bench.pipeline.cells.keys): each changes with what determines its result, and only with that."""

from __future__ import annotations

import pytest
import torch

from bench.pipeline.cells.keys import Runtime, attack_key, model_key, train_code
from bench.pipeline.cells.values import AttackCell, DataRef, ModelRef
from bench.spec.schema import AdversarialSpec, AttackSpec, ModelSpec, TrainSpec


def test_model_key_covers_what_determines_the_weights():
    m = ModelSpec(id="a", kind="baseline", arch="tiny-mlp")
    rt = Runtime((("torch", "2.14.1"),), "cpu")

    def key(spec=m, train="t", seed=0, teacher=None, runtime=rt, code="c"):
        return model_key(spec, train, seed, teacher, None, runtime, code)

    base = key()
    assert key(m.model_copy(update={"id": "renamed"})) == base, "the id is a name, not content"
    changed = [
        key(m.model_copy(update={"train": TrainSpec(epochs=4)})),
        key(m.model_copy(update={"arch": "small-cnn"})),
        key(train="t2"),
        key(seed=1),
        key(teacher="teacher-weights"),
        key(runtime=Runtime((("torch", "2.15.0"),), "cpu")),
        key(runtime=Runtime((("torch", "2.14.1"),), "cuda")),
        key(code="edited"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def key(train: TrainSpec) -> str:
    spec = ModelSpec(id="m", kind="baseline", arch="tiny-mlp", train=train)
    return model_key(spec, "data", 0, None, None, Runtime((("torch", "x"),), "cpu"), train_code("tiny-mlp", train.adversarial is not None))


def test_every_adversarial_setting_is_in_the_model_key_and_a_plain_model_keeps_its_key():
    plain = TrainSpec()
    assert "adversarial" not in plain.canonical()  # so models trained before this setting existed keep their keys
    assert train_code("tiny-mlp", True) != train_code("tiny-mlp", False)
    variants = [
        AdversarialSpec(eps=0.3),
        AdversarialSpec(eps=0.2),
        AdversarialSpec(eps=0.3, norm="l2"),
        AdversarialSpec(eps=0.3, step_size=0.3),
        AdversarialSpec(eps=0.3, clean_weight=0.5),
        AdversarialSpec(method="pgd", eps=0.3),
        AdversarialSpec(method="pgd", eps=0.3, steps=5),
        AdversarialSpec(method="pgd", eps=0.3, random_start=False),
    ]
    keys = {key(plain)} | {key(TrainSpec(adversarial=a)) for a in variants}
    assert len(keys) == len(variants) + 1
    # The default step and the same step written out are one model.
    assert key(TrainSpec(adversarial=AdversarialSpec(eps=0.3))) == key(TrainSpec(adversarial=AdversarialSpec(eps=0.3, step_size=0.375)))


def test_checkpoint_identity_is_its_contents_not_its_sums():
    from bench.pipeline.cells.keys import weights_digest

    a = {"w": torch.tensor([[1.0, 2.0], [3.0, 4.0]])}
    b = {"w": torch.tensor([[3.0, 4.0], [1.0, 2.0]])}
    assert weights_digest(a) != weights_digest(b)
    assert weights_digest(a) == weights_digest({"w": a["w"].clone()})


PGD = AttackSpec(id="pgd", use="torchattacks.pgd", params={"steps": 10}, eps=[0.1, 0.3], models=["a"])
RUNTIME = Runtime((("torch", "2.14.1"), ("torchvision", "0.29.1")), "cpu")


def test_attack_key_changes_with_each_input_and_not_with_the_attacks_id():
    def key(attack=PGD, model=("w", "c"), source=None, data="e", seed=0, runtime=RUNTIME, code="code", clean="a__clean.0.csv"):
        return attack_key(attack, model, source, data, seed, runtime, code, clean)

    base = key()
    assert key(PGD.model_copy(update={"id": "renamed"})) == base, "the id is a name, not content"
    assert key(PGD.model_copy(update={"models": ["a", "b"]})) == base, "the models it runs on are in the model's part of the key"
    changed = [
        key(PGD.model_copy(update={"use": "bench.pgd_margin"})),
        key(PGD.model_copy(update={"params": {"steps": 20}})),
        key(PGD.model_copy(update={"eps": [0.1]})),
        key(PGD.model_copy(update={"norm": "l2"})),
        key(PGD.model_copy(update={"view": "probs"})),
        key(PGD.model_copy(update={"tag": "adaptive"})),
        key(PGD.model_copy(update={"n_samples": 50})),
        key(PGD.model_copy(update={"batch_size": 32})),
        key(model=("other weights", "c")),
        key(model=("w", "other code")),
        key(source=("w", "c")),
        key(data="another eval subset"),
        key(seed=1),
        key(runtime=Runtime((("torch", "2.15.0"), ("torchvision", "0.29.1")), "cpu")),
        key(runtime=Runtime(RUNTIME.packages, "cuda")),
        key(runtime=Runtime(RUNTIME.packages, "cpu", "float64")),
        key(code="edited"),
        key(clean="a__clean.1.csv"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_an_attack_cell_renamed_keeps_its_key_and_names_its_shard_after_the_new_id():
    data = DataRef("digits", 0, None, 100, "t", "e", "x")
    model = ModelRef("a", "tiny-mlp", "recipe", "weights", "code")
    cell = AttackCell(PGD, model, data, 0, RUNTIME, "attack code", "a__clean.0.csv")
    renamed = AttackCell(PGD.model_copy(update={"id": "pgd10"}), model, data, 0, RUNTIME, "attack code", "a__clean.0.csv")
    assert cell.key == attack_key(PGD, ("weights", "code"), None, "e", 0, RUNTIME, "attack code", "a__clean.0.csv")
    assert renamed.key == cell.key
    assert (cell.shard, renamed.shard) == (f"records/a__pgd.{cell.key[:16]}.csv", f"records/a__pgd10.{cell.key[:16]}.csv")
    transfer = AttackCell(PGD, model, data, 0, RUNTIME, "attack code", "a__clean.0.csv", source=model)
    assert transfer.key != cell.key, "crafted on a source model: another result"


def test_a_claimed_number_changes_neither_the_spec_hash_nor_any_cell_key():
    from helpers.suites import SMOKE

    from bench.pipeline.cells.build import attack_cell, cost_cell, defended_ref, eval_cell, train_cell
    from bench.spec.load import load_suite

    claim = "{robust_accuracy: 0.89, norm: linf, eps: 8/255, source: 'Papernot et al. 2016'}"
    plain = load_suite(SMOKE)
    claimed = load_suite(SMOKE, [f"models.2.claimed={claim}"])
    assert claimed.models[2].claimed is not None and claimed.models[2].claimed.eps == 8 / 255
    assert claimed.models[2].model_dump(mode="json")["claimed"]["source"] == "Papernot et al. 2016", "the manifest keeps it"
    assert claimed.spec_hash() == plain.spec_hash()
    data = DataRef("digits", 0, None, 200, "t", "e", "x")

    def keys_of(spec):
        out = []
        for m in spec.models:
            train = train_cell(m, data, 0, RUNTIME, None)
            ref = defended_ref(ModelRef(m.id, m.arch, train.key(), "weights", "code"), m)
            ev = eval_cell(ref, data, True, RUNTIME)
            atk = attack_cell(spec.attacks[0], ref, data, 0, RUNTIME, ev, None)
            out += [train.key(), ev.outputs, atk.key, atk.shard, cost_cell(ref, (), data, RUNTIME, "cpu", 1).key, m.key_dump()]
        return out

    assert keys_of(claimed) == keys_of(plain)


def test_bf16_training_is_another_model_and_fp32_keeps_the_key_it_had():
    # The fields a plain model's key held before precision existed: an fp32 model keeps its key and its stored weights.
    assert set(TrainSpec().canonical()) == {"epochs", "batch_size", "optimizer", "lr", "momentum", "schedule", "temperature"}
    assert TrainSpec(precision="fp32").canonical() == TrainSpec().canonical()
    assert key(TrainSpec(precision="bf16")) != key(TrainSpec())
    assert TrainSpec(precision="bf16").canonical()["precision"] == "bf16"


def test_a_spurious_ast_depth_error_is_parsed_again_and_any_other_system_error_is_not(monkeypatch):
    import inspect

    from bench.pipeline.cells import keys

    calls: list[int] = []
    real = inspect.getsource

    def flaky(obj):
        calls.append(1)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=81, after=100)")
        return real(obj)

    monkeypatch.setattr(keys.inspect, "getsource", flaky)
    assert keys._source(ModelSpec) == real(ModelSpec) and len(calls) == 2
    monkeypatch.setattr(keys.inspect, "getsource", lambda obj: (_ for _ in ()).throw(SystemError("something else")))
    with pytest.raises(SystemError, match="something else"):
        keys._source(ModelSpec)
