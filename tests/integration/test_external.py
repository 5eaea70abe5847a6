"""Models without their code: torch.export and TorchScript files attacked as `kind: external`."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from click.testing import CliRunner

from bench.catalogue.architectures import ARCHITECTURES, ArchitectureCard
from bench.cli import cli
from bench.commands.run import run_and_report
from bench.errors import SpecError
from bench.fsutil import file_sha256
from bench.pipeline.runner import RunOptions
from bench.pipeline.training import fit
from bench.results.records import read_records
from bench.spec.load import load_suite, parse_suite
from bench.spec.schema import TrainSpec

# An architecture bench has never seen: a residual tanh MLP, defined only here.
NET = """
import torch
from torch import nn


class SkipNet(nn.Module):
    def __init__(self, shape, n_classes):
        super().__init__()
        c, h, w = shape
        self.inp = nn.Linear(c * h * w, 48)
        self.res = nn.Linear(48, 48)
        self.out = nn.Linear(48, n_classes)

    def forward(self, x):
        z = torch.tanh(self.inp(x.flatten(1)))
        return self.out(z + torch.tanh(self.res(z)))
"""


class Evil:
    """A pickle that runs a command when it is loaded: it touches ``PWNED`` beside the file."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f"touch {self.sentinel}",))


@pytest.fixture(scope="module")
def files(tmp_path_factory, digits):
    """A trained SkipNet as a state dict, a .pt2 program, a TorchScript file, and a 7-output variant."""
    root = tmp_path_factory.mktemp("external")
    (root / "skip_net.py").write_text(NET)
    sys.path.insert(0, str(root))
    import skip_net

    torch.manual_seed(0)
    net = skip_net.SkipNet(digits.shape, 10)
    fit(net, digits.x_train, digits.y_train, TrainSpec(epochs=8, batch_size=64, lr=0.01), seed=0)
    net.eval()
    example = (digits.x_test[:4],)
    batch = ({0: torch.export.Dim("batch")},)
    torch.save(net.state_dict(), root / "skip.sd.pt")
    torch.export.save(torch.export.export(net, example, dynamic_shapes=batch), root / "skip.pt2")
    torch.jit.script(net).save(str(root / "skip.pt"))
    seven = skip_net.SkipNet(digits.shape, 7).eval()
    torch.export.save(torch.export.export(seven, example, dynamic_shapes=batch), root / "seven.pt2")
    yield root
    sys.path.remove(str(root))
    sys.modules.pop("skip_net", None)


def suite(models, attacks=(), name="ext"):
    return {"name": name, "dataset": {"name": "digits", "eval_size": 60}, "models": list(models), "attacks": list(attacks)}


def run(data, tmp_path, out="out"):
    return run_and_report(parse_suite(data), RunOptions(out=tmp_path / out, store_root=tmp_path / "store"))


def test_an_exported_model_gives_the_same_results_as_the_model_in_process(files, tmp_path):
    ARCHITECTURES.register("test-skip-net", ArchitectureCard("skip_net:SkipNet", "test net", passes_per_second=5e5))
    try:
        models = [
            {"id": "inproc", "kind": "baseline", "arch": "test-skip-net", "checkpoint": str(files / "skip.sd.pt")},
            {"id": "exported", "kind": "external", "checkpoint": str(files / "skip.pt2")},
            {"id": "scripted", "kind": "external", "checkpoint": str(files / "skip.pt")},
        ]
        attacks = [
            {"id": "pgd", "use": "torchattacks.pgd", "params": {"steps": 5}, "eps": [0.1, 0.2]},
            {"id": "art-fgsm", "use": "art.fgsm", "eps": [0.2]},
            {"id": "margin", "use": "bench.pgd_margin", "params": {"steps": 10}, "eps": [0.1]},
            {"id": "cw", "use": "bench.cw_l2", "params": {"binary_search_steps": 3, "max_iter": 20}, "eps": [1.0], "n_samples": 20},
        ]
        run_dir = run(suite(models, attacks), tmp_path)
    finally:
        ARCHITECTURES.unregister("test-skip-net")
    rec = read_records(run_dir).drop(columns="seconds")
    by_model = {
        m: rec[rec["model"] == m].drop(columns="model").sort_values(["attack", "eps", "sample"]).reset_index(drop=True)
        for m in ("inproc", "exported", "scripted")
    }
    assert len(by_model["inproc"]) == 360 + 2 * 60 + 60 + 60 + 2 * 20  # clean test split, pgd at 2 eps, art-fgsm, margin, cw at 1.0 and inf
    assert 0.3 < by_model["inproc"].query("attack == 'pgd' and eps == 0.2")["success"].mean()
    for other in ("exported", "scripted"):
        pd.testing.assert_frame_equal(by_model[other], by_model["inproc"], check_exact=True)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for mid, name in (("exported", "skip.pt2"), ("scripted", "skip.pt")):
        cell = manifest["cells"][f"train {mid}"]
        assert cell["origin"] == "external" and cell["weights"] == file_sha256(files / name), "keyed by the file's sha256"
    diag = {m: pd.read_csv(next((run_dir / "diagnostics").glob(f"{m}.*.csv"))).drop(columns="model") for m in ("inproc", "exported")}
    pd.testing.assert_frame_equal(diag["exported"], diag["inproc"])


def test_a_student_distils_from_an_external_teacher_keyed_by_its_file(files, tmp_path):
    def models(teacher_file):
        return [
            {"id": "teacher", "kind": "external", "checkpoint": str(teacher_file), "evaluate": False},
            {
                "id": "student",
                "kind": "student",
                "teacher": "teacher",
                "arch": "tiny-mlp",
                "train": {"epochs": 4, "batch_size": 64, "lr": 0.01, "temperature": 20},
            },
        ]

    first = run(suite(models(files / "skip.pt2")), tmp_path)
    cells = json.loads((first / "manifest.json").read_text())["cells"]
    assert (cells["train teacher"]["origin"], cells["train student"]["origin"]) == ("external", "trained")
    clean = pd.read_csv(first / "clean.csv").set_index("model")
    assert clean.loc["student", "clean_accuracy"] > 0.8, "the student learnt from the exported teacher's soft labels"
    again = json.loads((run(suite(models(files / "skip.pt2")), tmp_path) / "manifest.json").read_text())["cells"]
    assert again["train student"]["origin"] == "cache"

    # Another file under the same name is another teacher: the student is retrained and the spec hash differs.
    import skip_net

    other = tmp_path / "elsewhere" / "skip.pt2"
    other.parent.mkdir()
    torch.manual_seed(1)
    net = skip_net.SkipNet((1, 8, 8), 10).eval()
    torch.export.save(torch.export.export(net, (torch.rand(4, 1, 8, 8),), dynamic_shapes=({0: torch.export.Dim("batch")},)), other)
    assert file_sha256(other) != file_sha256(files / "skip.pt2")
    moved = json.loads((run(suite(models(other)), tmp_path) / "manifest.json").read_text())
    assert moved["cells"]["train student"]["origin"] == "trained"
    assert parse_suite(suite(models(other))).spec_hash() != parse_suite(suite(models(files / "skip.pt2"))).spec_hash()


def cli_run(spec: dict, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out"), "-q"], env={"BENCH_CACHE_DIR": str(tmp_path / "c")})
    assert not (tmp_path / "out").exists(), "nothing written"
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    return res.exit_code, res.stderr


def test_a_model_with_the_wrong_number_of_outputs_is_refused(files, tmp_path):
    code, err = cli_run(suite([{"id": "m", "kind": "external", "checkpoint": str(files / "seven.pt2")}]), tmp_path)
    assert code == 2
    assert err == "error: models[m].checkpoint: the model outputs (2, 7) for 2 inputs; digits needs (2, 10), one logit per class\n"


def crafted_pt2(source: Path, target: Path, sentinel: Path) -> None:
    """A real .pt2 with one weight swapped for a pickle that runs a command, marked use_pickle."""
    with zipfile.ZipFile(source) as zin:
        config_name = next(n for n in zin.namelist() if n.endswith("weights/model_weights_config.json"))
        config = json.loads(zin.read(config_name))
        first = next(iter(config["config"].values()))
        first["use_pickle"] = True
        victim = config_name.rsplit("/", 1)[0] + "/" + first["path_name"]
        payload = io.BytesIO()
        torch.save(Evil(sentinel), payload)
        with zipfile.ZipFile(target, "w") as zout:
            for item in zin.infolist():
                data = {config_name: json.dumps(config).encode(), victim: payload.getvalue()}.get(item.filename, zin.read(item.filename))
                zout.writestr(item, data)


def test_the_crafted_program_runs_code_under_a_bare_torch_export_load(files, tmp_path):
    # Why bench forces weights-only loads around torch.export.load: without that, this file runs its command.
    sentinel = tmp_path / "PWNED"
    crafted_pt2(files / "skip.pt2", tmp_path / "evil.pt2", sentinel)
    code = "import sys, torch\ntry:\n    torch.export.load(sys.argv[1])\nexcept Exception:\n    pass\n"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "evil.pt2")], capture_output=True, timeout=300)
    assert sentinel.exists()


@pytest.mark.parametrize(
    "kind, name, message",
    [
        ("external", "evil.pt", "not a TorchScript archive (not a zip file); bench loads programs, never pickles"),
        ("external", "evil.pt2", "refused, loading it would execute pickled code"),
        ("baseline", "evil.pt", "refused, loading it would execute pickled code"),
    ],
)
def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(files, tmp_path, kind, name, message):
    sentinel = tmp_path / "PWNED"
    path = tmp_path / name
    if name.endswith(".pt2"):
        crafted_pt2(files / "skip.pt2", path, sentinel)
    else:
        path.write_bytes(pickle.dumps({"w": Evil(sentinel)}))
    model = {"id": "m", "kind": kind, "checkpoint": str(path)} | ({"arch": "tiny-mlp"} if kind == "baseline" else {})
    code, err = cli_run(suite([model]), tmp_path)
    # A state dict is checked with the spec (its YAML path first); a program when the run has read its data.
    assert code == 2 and err.removeprefix("error: ").removeprefix("models.m.checkpoint: ").startswith(f"{path}: {message}"), err
    assert len(err.strip().splitlines()) == 1
    assert not sentinel.exists(), "the pickled command never ran"


@pytest.mark.parametrize(
    "model, message",
    [
        ({"kind": "external", "arch": "tiny-mlp", "checkpoint": "m.pt2"}, "models[0].arch: an external model brings its own network"),
        ({"kind": "external"}, "models[0].checkpoint: an external model needs its program file"),
        ({"kind": "external", "checkpoint": "m.onnx"}, "models[0].checkpoint: 'm.onnx' is neither .pt2 (torch.export) nor .pt"),
        (
            {"kind": "external", "checkpoint": "m.pt", "train": {"epochs": 2}},
            "models[0].train: an external model is evaluated, never trained",
        ),
        ({"kind": "baseline", "arch": "tiny-mlp", "checkpoint": "m.pt2"}, "models[0].checkpoint: a .pt2 file is a whole program"),
        ({"kind": "baseline"}, "models[0].arch: required field is missing"),
    ],
)
def test_external_models_are_validated(model, message):
    with pytest.raises(SpecError) as info:
        parse_suite(suite([{"id": "m", **model}]))
    assert str(info.value).startswith(message)


def test_validate_lists_an_external_model(files, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(suite([{"id": "m", "kind": "external", "checkpoint": str(files / "skip.pt2")}])))
    res = CliRunner().invoke(cli, ["validate", str(path)])
    assert res.exit_code == 0 and "model m: external program skip.pt2, not trained" in res.stdout
    assert load_suite(path).model("m").checkpoint == str(files / "skip.pt2")
