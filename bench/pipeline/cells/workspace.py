"""Where cells run: the paths they need, plus in-process caches that never change a result.

A ``Workspace`` is built from paths alone (``WorkspacePaths``), so any process
that sees the same data roots, model store and run folder can execute a cell.
Its caches only skip repeated work within one process: the dataset is loaded
once, each model's weights once, and ART's classifier is built once per model
and view.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view
from bench.errors import CacheError, DataError
from bench.fsutil import file_sha256
from bench.pipeline.cells.keys import Runtime, weights_digest
from bench.pipeline.cells.values import DataRef, ModelRef
from bench.pipeline.data.bundle import DataBundle, load_data
from bench.pipeline.models.defences import defend
from bench.pipeline.models.external import load_program
from bench.pipeline.models.networks import build_model, load_weights
from bench.pipeline.models.store import ModelStore, load_state_dict
from bench.registry import import_plugins
from bench.spec.schema import view_name


@dataclass(frozen=True)
class WorkspacePaths:
    """Everything but the cell that a cell needs: plain paths and settings, cheap to send anywhere."""

    run_dir: Path
    store_root: Path
    data_roots: tuple[Path, ...]
    device: str = "cpu"
    quiet: bool = True
    plugins: tuple[str, ...] = ()  # the suite's plug-in modules: a fresh process imports them before it runs a cell


class Workspace:
    """Paths plus per-process caches of data, models and crafting models."""

    def __init__(self, paths: WorkspacePaths, data: DataBundle | None = None) -> None:
        import_plugins(paths.plugins)
        self.paths = paths
        self.store = ModelStore(paths.store_root)
        self.device = torch.device(paths.device)
        self.runtime = Runtime.here(self.device.type)
        self._data: dict[DataRef, DataBundle] = {}
        self._preloaded = data
        self._modules: dict[str, nn.Module] = {}
        self._defended: dict[tuple[str, str], nn.Module] = {}
        self._crafting: dict[tuple[str, str, str], CraftingModel] = {}

    def data(self, ref: DataRef) -> DataBundle:
        """The data a cell asks for, checked against the fingerprints it expects."""
        if ref not in self._data:
            bundle = self._preloaded
            if bundle is None or (bundle.name, bundle.train_fingerprint, bundle.eval_fingerprint) != (
                ref.name,
                ref.train_fingerprint,
                ref.eval_fingerprint,
            ):
                bundle = load_data(ref.name, list(self.paths.data_roots), ref.seed, ref.train_size, ref.eval_size, ref.path)
            got = (bundle.train_fingerprint, bundle.eval_fingerprint, bundle.test_fingerprint)
            if got != (ref.train_fingerprint, ref.eval_fingerprint, ref.test_fingerprint):
                raise DataError(f"{ref.name}: the data found here differ from the data the run was planned on (fingerprints differ)")
            self._data[ref] = bundle
        return self._data[ref]

    def remember(self, ref: ModelRef, module: nn.Module) -> None:
        """Keep a module this process just trained or loaded, so later cells skip reloading it."""
        self._modules[ref.weights] = module

    def module(self, ref: ModelRef, data: DataBundle) -> nn.Module:
        """The model ``ref`` names, in eval mode on the workspace's device, with exactly the expected weights, behind its defence."""
        if not ref.defence:
            return self.network(ref, data)
        key = (ref.weights, ref.defence)
        if key not in self._defended:
            self._defended[key] = defend(self.network(ref, data), ref.defence).to(self.device).eval()
        return self._defended[key]

    def network(self, ref: ModelRef, data: DataBundle) -> nn.Module:
        """The network ``ref`` names, without its defence: what a train cell obtained."""
        if ref.weights not in self._modules and ref.external is not None:
            path = Path(ref.checkpoint or "")
            if not path.is_file() or file_sha256(path) != ref.weights:
                raise CacheError(f"model {ref.id}: {path} is missing or changed since the run was planned (sha256 differs)")
            self._modules[ref.weights] = load_program(path).to(self.device).eval()
        if ref.weights not in self._modules:
            if ref.checkpoint is not None:
                state = load_state_dict(Path(ref.checkpoint))
            else:
                # Under the key's lock: a writer publishes data, then digest, and a half-published pair must not look corrupt.
                with self.store.lock(ref.key):
                    found = self.store.load(ref.key)
                if found is None:
                    raise CacheError(f"model {ref.id}: not in the model store {self.store.root} (key {ref.key[:12]})")
                state = found[0]
            if weights_digest(state) != ref.weights:
                raise CacheError(f"model {ref.id}: the weights found differ from those the run was planned on")
            module = build_model(ref.arch or "", data.shape, data.n_classes)
            load_weights(module, state, f"model {ref.id}", ref.arch or "the architecture")
            self._modules[ref.weights] = module.to(self.device).eval()
        return self._modules[ref.weights]

    def crafting_model(self, ref: ModelRef, view: Any, data: DataBundle) -> CraftingModel:
        """``ref`` seen through an attack's view; built once per model and view and shared by its attacks."""
        key = (ref.weights, ref.defence, view_name(view))
        if key not in self._crafting:
            module = self.module(ref, data)
            self._crafting[key] = CraftingModel(
                view=make_view(module, view), n_classes=data.n_classes, input_shape=data.shape, device=self.device
            )
        return self._crafting[key]
