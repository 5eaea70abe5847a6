"""Checks a run makes before it writes anything: every model file loads and fits the data.

A spec can be valid and still name a checkpoint that is missing, a pickle that
would run code, a state dict for another architecture, or a program with the
wrong number of outputs. ``bench run`` finds all of these here, after loading
the data and before creating the run folder, so a bad input is one line, exit
code 2, and nothing on disk.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bench.catalogue.architectures import ARCHITECTURES
from bench.errors import CacheError, SpecError
from bench.pipeline.data.bundle import DataBundle
from bench.pipeline.models.external import check_outputs, load_program
from bench.pipeline.models.networks import build_model, load_weights
from bench.pipeline.models.store import load_state_dict
from bench.spec.schema import SuiteSpec


def check_models(spec: SuiteSpec, data: DataBundle) -> None:
    """Raise a one-line ``BenchError`` for the first model that cannot run on ``data``."""
    for m in spec.models:
        if m.arch is not None and not ARCHITECTURES.get(m.arch).supports(data.shape):
            shape = "x".join(map(str, data.shape))
            raise SpecError(f"models[{m.id}].arch: '{m.arch}' does not fit {shape} inputs of {data.name}")
        if m.checkpoint is None:
            continue
        where = f"models[{m.id}].checkpoint"
        path = Path(m.checkpoint)
        if not path.is_file():
            raise CacheError(f"{where}: no such file {path}")
        if m.kind == "external":
            module = load_program(path)
        else:
            module = build_model(m.arch or "", data.shape, data.n_classes)
            load_weights(module, load_state_dict(path), str(path))
        module.eval()
        with torch.no_grad():
            check_outputs(module, data.x_test, data.n_classes, data.name, where)
