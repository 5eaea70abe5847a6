"""Shared fixtures: an isolated model store, offline data, a tiny trained model, a CIFAR-10 folder, a folder for plug-ins."""

from __future__ import annotations

import os
import sys

import pytest
import torch
from helpers.cifar10 import write_tree

from bench.pipeline.data import cifar10
from bench.pipeline.data.bundle import load_data
from bench.pipeline.models.networks import build_model
from bench.pipeline.training import fit
from bench.spec.schema import TrainSpec


def pytest_addoption(parser):
    # The attack contract (tests/contract) on a plug-in's attack: --plugin my.module --attack my.key.
    parser.addoption("--plugin", action="append", default=[], metavar="MODULE", help="import a bench plug-in module first")
    parser.addoption("--attack", action="append", default=[], metavar="KEY", help="run the attack contract on these keys only")
    parser.addoption(
        "--attack-params", action="append", default=[], metavar="KEY=JSON", help="fast parameters for KEY in the attack contract"
    )


def pytest_configure(config):
    from bench.registry import import_plugins

    import_plugins(config.getoption("plugin"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    # No test may touch the user's caches or try the network for data.
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "store"))
    monkeypatch.setenv("BENCH_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg"))
    torch.set_num_threads(int(os.environ.get("BENCH_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def digits():
    """The digits data set, 100 evaluation samples."""
    return load_data("digits", [], seed=0, train_size=None, eval_size=100)


@pytest.fixture(scope="session")
def tiny_model(digits):
    """A tiny MLP trained on digits in well under a second (about 90% accurate)."""
    torch.manual_seed(0)
    model = build_model("tiny-mlp", digits.shape, digits.n_classes)
    fit(model, digits.x_train, digits.y_train, TrainSpec(epochs=15, batch_size=64, lr=0.01), seed=0)
    return model.eval()


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """tmp_path holding cifar-10-batches-py/: 5 tiny random train batches, the 20 real images as test_batch, and batches.meta."""
    # The synthetic files are not CIFAR-10's: expect their own md5s instead of the published ones.
    monkeypatch.setattr(cifar10.Cifar10, "md5", write_tree(tmp_path))
    return tmp_path


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    """tmp_path, first on sys.path: a plug-in module written there imports; every ``plug_*`` module is forgotten after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("plug_")]:
        sys.modules.pop(name)
