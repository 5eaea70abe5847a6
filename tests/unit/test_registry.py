"""The registries (bench.registry): lazy keys with suggestions; plug-ins from entry points and `plugins:` modules, with origins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bench.catalogue.architectures import ARCHITECTURES
from bench.catalogue.attacks import ATTACKS
from bench.errors import PluginError, SpecError
from bench.registry import Registry, UnknownKeyError, import_plugins
from bench.spec.load import parse_suite

SUITE = {
    "name": "p",
    "dataset": {"name": "digits", "eval_size": 20},
    "models": [{"id": "a", "kind": "baseline", "arch": "tiny-mlp"}],
    "attacks": [{"id": "x", "use": "torchattacks.fgsm", "eps": [0.1]}],
}


def fake_distribution(root: Path, name: str, version: str, group: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    """What `pip install` leaves on sys.path: the modules, and a dist-info folder with entry_points.txt."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"[{group}]"] + [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


def test_entry_points_are_discovered_lazily_with_their_distribution(on_path):
    fake_distribution(on_path, "fancy-things", "1.2.3", "bench.test_things", {"fancy.one": "plug_fancy:ONE"}, {"plug_fancy": "ONE = 1\n"})
    reg: Registry[int] = Registry("thing", group="bench.test_things")
    reg.register("builtin.zero", "json:dumps")
    assert reg.keys() == ["builtin.zero", "fancy.one"]
    assert "plug_fancy" not in sys.modules, "listing keys imports no plug-in code"
    assert reg.origin("fancy.one") == "fancy-things 1.2.3 (entry point)"
    assert reg.origin("builtin.zero") == "module json"
    assert reg.get("fancy.one") == 1


def test_an_entry_point_may_not_take_a_key_that_is_already_registered(on_path):
    fake_distribution(on_path, "clash", "0.1", "bench.test_clash", {"bench.cw_l2": "plug_clash:X"}, {"plug_clash": "X = 1\n"})
    reg: Registry[int] = Registry("attack", group="bench.test_clash")
    reg.register("bench.cw_l2", "bench.attacks.cw:CarliniWagnerL2")
    with pytest.raises(
        PluginError, match=r"duplicate attack key 'bench.cw_l2': from clash 0.1 \(entry point\), already registered by bench"
    ):
        reg.keys()


def test_a_broken_plugin_target_is_one_line_naming_its_origin(on_path):
    fake_distribution(on_path, "broken", "2.0", "bench.test_broken", {"b.x": "plug_missing:X"}, {})
    reg: Registry[int] = Registry("attack", group="bench.test_broken")
    with pytest.raises(PluginError) as info:
        reg.get("b.x")
    assert str(info.value).startswith("attack 'b.x' from broken 2.0 (entry point): cannot load plug_missing:X (No module named")


def test_plugin_modules_register_under_their_own_name(on_path):
    (on_path / "plug_mod.py").write_text(
        "from bench.catalogue.architectures import ARCHITECTURES\n"
        "ARCHITECTURES.register('plug-net', 'bench.pipeline.models.networks:TinyMlp')\n"
    )
    try:
        import_plugins(["plug_mod"])
        assert ARCHITECTURES.origin("plug-net") == "plugin module plug_mod"
        # Loading the key and registering the same target again (a second suite, a fresh import) is harmless.
        ARCHITECTURES.get("plug-net").load_class()
        ARCHITECTURES.register("plug-net", "bench.pipeline.models.networks:TinyMlp")
        with pytest.raises(PluginError, match="duplicate architecture key 'plug-net'"):
            ARCHITECTURES.register("plug-net", "bench.pipeline.models.networks:SmallCnn")
    finally:
        ARCHITECTURES.unregister("plug-net")
    with pytest.raises(PluginError, match=r"^plugins\[1\]: cannot import 'plug_nope' \(No module named 'plug_nope'\)$"):
        import_plugins(["plug_mod", "plug_nope"])


def test_a_suite_names_its_plugins_and_validation_sees_their_keys(on_path):
    (on_path / "plug_attack.py").write_text(
        "from bench.attacks import ATTACKS\nATTACKS.register('plug.fgsm', 'bench.attacks.torchattacks_backend:TorchattacksFgsm')\n"
    )
    data = dict(SUITE, attacks=[{"id": "x", "use": "plug.fgsm", "eps": [0.1]}])
    with pytest.raises(SpecError, match=r"attacks\[0\].use: unknown attack 'plug.fgsm'"):
        parse_suite(data)
    try:
        spec = parse_suite(dict(data, plugins=["plug_attack"]))
        assert spec.plugins == ["plug_attack"] and ATTACKS.origin("plug.fgsm") == "plugin module plug_attack"
    finally:
        ATTACKS.unregister("plug.fgsm")
    with pytest.raises(SpecError, match=r"^plugins\[0\]: 'os; rm' is not a module name$"):
        parse_suite(dict(SUITE, plugins=["os; rm"]))


def test_a_plugin_keeps_the_spec_hash_of_suites_without_one():
    plain = parse_suite(SUITE)
    assert plain.spec_hash() == parse_suite(dict(SUITE, plugins=[])).spec_hash()
    assert plain.spec_hash() != parse_suite(dict(SUITE, plugins=["json"])).spec_hash()


def test_registry_is_lazy_and_suggests():
    reg: Registry[object] = Registry("thing")
    reg.register("a.json", "json:dumps")
    with pytest.raises(PluginError, match="duplicate thing key 'a.json'"):
        reg.register("a.json", "json:loads")
    assert reg.get("a.json").__name__ == "dumps"
    with pytest.raises(UnknownKeyError) as info:
        reg.get("a.jsno")
    assert str(info.value) == "unknown thing 'a.jsno'; did you mean 'a.json'?"
    assert "available: a.json" in str(UnknownKeyError("thing", "zzz", reg.keys()))
